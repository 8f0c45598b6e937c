import { isAbsolute, normalize } from "node:path";
import { AVAILABLE_TRANSPORT_KINDS } from "../core/kinds.js";
import type { TransportSpec } from "../core/pipeline.js";
import { q, type Path } from "./describe.js";
import type { RawTransport } from "./schema/transport.js";
import { readDockerTransport } from "./transport-docker.js";
import type { Scope } from "./scope.js";
import { readSshTransport } from "./transport-ssh.js";

/**
 * Normalises one level's `transport:` (`transport: sandbox` is short for `{kind: sandbox}`). The shape is already
 * checked; here: kinds this build cannot run yet, and home paths that would reach outside the home.
 */
export function readTransport(raw: RawTransport | undefined, path: Path, scope: Scope): TransportSpec | undefined {
  if (raw === undefined) return undefined;
  const spec = typeof raw === "string" ? { kind: raw } : raw;
  const kindPath = typeof raw === "string" ? path : [...path, "kind"];
  if (!(AVAILABLE_TRANSPORT_KINDS as readonly string[]).includes(spec.kind)) {
    scope.out.error("transport-unavailable", `transport ${q(spec.kind)} is not available yet; this build runs: ${AVAILABLE_TRANSPORT_KINDS.join(", ")}`, kindPath);
    return undefined;
  }
  if (spec.kind === "ssh") return readSshTransport(raw, path, scope);
  if (spec.kind === "local") {
    for (const key of ["network", "home", "env"] as const) {
      if (typeof raw !== "string" && raw[key] !== undefined) scope.out.warning("transport-setting-ignored", `${q(key)} has no effect on the local transport`, [...path, key], "key");
    }
    return { kind: "local" };
  }
  if (spec.kind === "docker") return readDockerTransport(raw, path, scope);
  const raws: Partial<Exclude<RawTransport, string>> = typeof raw === "string" ? {} : raw;
  const home = (raws.home ?? []).map((entry, i) => homePath(entry, [...path, "home", i], scope));
  return {
    kind: "sandbox",
    // `host` is the host's network, which the sandbox shares when the network is on.
    network: raws.network === undefined || raws.network === "on" || raws.network === "host" || raws.network === true,
    home: home.filter((p): p is string => p !== undefined),
    env: [...new Set(raws.env ?? [])],
  };
}

/** `~/x`, `x`: relative to the home, without `..`, so a home entry never binds something outside it. */
function homePath(entry: string, path: Path, scope: Scope): string | undefined {
  const relative = entry.startsWith("~/") ? entry.slice(2) : entry;
  const clean = normalize(relative);
  if (isAbsolute(relative) || clean === "." || clean === ".." || clean.startsWith("../")) {
    scope.out.error("transport-home-path", `home path ${q(entry)} must name something inside your home, relative to it (e.g. .claude.json)`, path);
    return undefined;
  }
  return clean.replace(/\/$/, "");
}
