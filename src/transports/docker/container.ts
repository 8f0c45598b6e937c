/**
 * One container per run: created from the configured image with every limit the config sets, labelled so a later orc
 * can find it, and kept alive by a main process that reads a pipe from this orc: when orc dies (kill -9 included) the
 * engine closes that stdin, the main process exits and the container removes itself (AutoRemove). Processes run in it
 * through `docker exec` (exec.ts).
 */
import { existsSync } from "node:fs";
import { Socket } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import type Docker from "dockerode";
import { startTimeOf } from "../process-identity.js";
import { CONTAINER_HOME } from "./env.js";
import type { DockerOptions } from "./options.js";

export const LABEL_RUN = "orc.run";
export const LABEL_PROJECT = "orc.project";
/** `HOST/PID:START` of the orc that made the container: it is an orphan once that process is gone. */
export const LABEL_OWNER = "orc.owner";

function ownerLabel(): string {
  return `${hostname()}/${String(process.pid)}:${startTimeOf(process.pid) ?? ""}`;
}

/**
 * The container's settings: never privileged, every capability dropped, no new privileges, limits, binds. `writable`
 * is the directory its processes work in: the run's workspace, or a task's own directory while tasks run side by side
 * (ProcessSpec.workspace), which then gets the run's workspace read-only beside it (its links to ignored entries such
 * as node_modules lead there).
 */
export function createOptions(options: DockerOptions, writable: string = options.workspace): Docker.ContainerCreateOptions {
  const { spec } = options;
  const binds = [
    ...(writable === options.workspace ? [] : [`${options.workspace}:${options.workspace}:ro`]),
    `${writable}:${writable}:rw`,
    // Over the workspace's bind: the agent cannot rewrite history, hooks or config of the user's repository. Only when
    // it exists: the engine would create a missing source directory on the host.
    ...(existsSync(join(writable, ".git")) ? [`${writable}/.git:${writable}/.git:ro`] : []),
    `${options.homeDir}:${CONTAINER_HOME}:rw`,
    ...options.readable.map((path) => `${path}:${path}:ro`),
    ...(options.writable ?? []).map((path) => `${path}:${path}:rw`),
  ];
  return {
    Image: spec.image,
    // `read` returns when orc's end of stdin closes: the container lives exactly as long as orc holds it.
    Cmd: ["/bin/sh", "-c", "read -r _ ; exit 0"],
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    Labels: { [LABEL_RUN]: options.runId, [LABEL_PROJECT]: options.project, [LABEL_OWNER]: ownerLabel() },
    HostConfig: {
      Init: true,
      AutoRemove: true,
      Privileged: false,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      NetworkMode: spec.network === "none" ? "none" : spec.network === "host" ? "host" : "default",
      Memory: spec.memory,
      MemorySwap: spec.memory,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: spec.pids,
      Binds: binds,
    },
  };
}

/** A started container and the pipe whose end stops it. */
export interface Held {
  readonly container: Docker.Container;
  readonly id: string;
  /** Calls back once when the container's lifeline ends (it died, or the engine connection broke); returns the unsubscribe. */
  onGone(listener: () => void): () => void;
  isGone(): boolean;
  release(): void;
}

/** Creates, attaches to and starts a container of the run's; a clear error when the image is not in the engine. */
export async function startContainer(docker: Docker, options: DockerOptions, writable: string = options.workspace): Promise<Held> {
  try {
    await docker.getImage(options.spec.image).inspect();
  } catch (err) {
    if (statusOf(err) === 404) throw new Error(`docker image ${JSON.stringify(options.spec.image)} is not in the engine (orc pulls nothing: build or pull it first; see docker images)`);
    throw new Error(`docker engine at ${options.socket} did not answer: ${messageOf(err)}`);
  }
  const container = await docker.createContainer(createOptions(options, writable));
  let lifeline: NodeJS.ReadWriteStream;
  try {
    lifeline = await container.attach({ stream: true, stdin: true, hijack: true });
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(ignore);
    throw err;
  }
  // The lifeline must never keep orc's event loop alive, nor crash it with an unhandled error.
  // dockerode hijacks the connection: the stream is its socket.
  if (lifeline instanceof Socket) lifeline.unref();
  let gone = false;
  const listeners = new Set<() => void>();
  const end = (): void => {
    if (gone) return;
    gone = true;
    for (const listener of listeners) listener();
    listeners.clear();
  };
  lifeline.on("end", end);
  lifeline.on("close", end);
  lifeline.on("error", end);
  lifeline.resume();
  return {
    container,
    id: container.id,
    onGone: (listener) => {
      if (gone) {
        listener();
        return () => undefined;
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    isGone: () => gone,
    release: () => {
      if (lifeline instanceof Duplex) lifeline.destroy();
    },
  };
}

/** How long a removal may take before orc stops waiting for it (an engine that hangs must not hang orc). */
const REMOVAL_WAIT_MS = 10_000;

/**
 * Stops and removes a container, and returns once it is gone; gone already (AutoRemove, a kill) is fine. Releasing the
 * lifeline starts AutoRemove, which makes a `remove()` right after it fail at once ("removal already in progress"):
 * the engine is then asked to say when the container is removed, so a closed transport has left nothing behind.
 */
export async function removeContainer(container: Docker.Container): Promise<void> {
  await container.remove({ force: true }).catch(ignore);
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => { timer = setTimeout(resolve, REMOVAL_WAIT_MS); });
  await Promise.race([container.wait({ condition: "removed" }).catch(ignore), gaveUp]);
  clearTimeout(timer);
}

/**
 * Removes this project's containers whose orc is gone (a crash or kill -9 before the lifeline could end them, or an
 * engine that kept them). Containers of a live orc (another run in the same project) are left alone. Returns the run
 * ids whose containers were removed.
 */
export async function removeOrphans(docker: Docker, project: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${project}`] } });
  const removed: string[] = [];
  for (const info of list) {
    if (ownerAlive(info.Labels[LABEL_OWNER] ?? "")) continue;
    await removeContainer(docker.getContainer(info.Id));
    removed.push(info.Labels[LABEL_RUN] ?? "");
  }
  return removed;
}

/** Whether the orc named by an owner label still runs (on another host: assumed alive, never ours to judge). */
function ownerAlive(label: string): boolean {
  const match = /^(.*)\/(\d+):(\d*)$/.exec(label);
  if (match === null) return false;
  if (match[1] !== hostname()) return true;
  const start = startTimeOf(Number(match[2]));
  return start !== undefined && (match[3] === "" || start === match[3]);
}

export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ignore(): void {
  // Already gone, or the engine is: nothing left to remove from here.
}
