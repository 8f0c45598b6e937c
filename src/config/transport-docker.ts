import type { DockerTransportSpec } from "../core/pipeline.js";
import { q, type Path } from "./describe.js";
import type { RawTransport } from "./schema/transport.js";
import type { Scope } from "./scope.js";

/** Defaults for a container's limits: enough for a coding agent and a test suite, not enough to take the host down. */
export const DOCKER_DEFAULTS = { memory: 2 * 1024 ** 3, cpus: 2, pids: 512 } as const;

const UNITS: Readonly<Record<string, number>> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** Below this a container cannot even start its init (the engine refuses less than 6 MiB). */
const MIN_MEMORY = 6 * 1024 ** 2;

type RawObject = Partial<Exclude<RawTransport, string>>;

/** `transport: {kind: docker, …}` (the shape is checked already): the image is required, values are checked and defaulted. */
export function readDockerTransport(raw: RawTransport, path: Path, scope: Scope): DockerTransportSpec | undefined {
  const raws: RawObject = typeof raw === "string" ? {} : raw;
  if (raws.home !== undefined) scope.out.warning("transport-setting-ignored", `${q("home")} has no effect on the docker transport (pass credentials by name in ${q("env")})`, [...path, "home"], "key");
  const image = raws.image;
  if (image === undefined) {
    scope.out.error("transport-image-missing", "transport docker needs an image: `transport: {kind: docker, image: NAME}` (a local image; orc pulls nothing)", path);
    return undefined;
  }
  const memory = raws.memory === undefined ? DOCKER_DEFAULTS.memory : memoryBytes(raws.memory);
  if (memory === undefined || memory < MIN_MEMORY) {
    scope.out.error("transport-memory", `memory ${q(String(raws.memory))} must be a size of at least 6m, e.g. 512m or 2g`, [...path, "memory"]);
    return undefined;
  }
  return {
    kind: "docker",
    image,
    network: raws.network === "host" ? "host" : raws.network === "on" || raws.network === true ? "default" : "none",
    memory,
    cpus: raws.cpus ?? DOCKER_DEFAULTS.cpus,
    pids: raws.pids ?? DOCKER_DEFAULTS.pids,
    env: [...new Set(raws.env ?? [])],
    ...(raws.user === undefined ? {} : { user: raws.user }),
    ...(raws.socket === undefined ? {} : { socket: raws.socket }),
  };
}

/** `2g`, `512m`, `1.5g`, `1048576`: bytes, or undefined when it is no size. */
function memoryBytes(value: string | number): number | undefined {
  if (typeof value === "number") return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)([kmg]?)b?$/i.exec(value.trim());
  if (match === null) return undefined;
  return Math.floor(Number(match[1]) * (UNITS[(match[2] ?? "").toLowerCase()] ?? 1));
}
