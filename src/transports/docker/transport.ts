/**
 * The `docker` transport: every process of a run (agents and gates) runs in one container of the run's, made from the
 * configured image on the first process and again after the container died (a reconnect). Tasks side by side work in
 * directories of their own (ProcessSpec.workspace); a container cannot gain a mount once started, so each such
 * directory gets a container of its own, made the same way. See container.ts for the settings and exec.ts for one
 * process.
 */
import { statSync } from "node:fs";
import type Docker from "dockerode";
import type { ProcessOutcome, ProcessSpec, Transport } from "../port.js";
import { removeContainer, startContainer, type Held } from "./container.js";
import { runExec } from "./exec.js";
import type { DockerOptions } from "./options.js";

/**
 * A bind mount holds the directory it was made from: a task's directory removed and made again at the same path (a
 * resumed task) is another directory, so its inode is part of the key and it gets a fresh container.
 */
function containerKey(dir: string): string {
  try {
    return `${dir}\0${String(statSync(dir).ino)}`;
  } catch {
    return dir;
  }
}

export class DockerTransport implements Transport {
  readonly kind = "docker";
  /** The started (or starting) container for each directory processes work in. */
  private readonly held = new Map<string, Promise<Held>>();
  /** Containers given up on (dead, or their engine connection broke): never used again. */
  private readonly dropped = new WeakSet<Held>();
  private closed = false;

  /** `orphanOfRun`: a container of this very run, left by an orc that died, was removed when this one started. */
  constructor(
    private readonly docker: Docker,
    private readonly options: DockerOptions,
    private readonly orphanOfRun = false,
  ) {}

  async run(spec: ProcessSpec): Promise<ProcessOutcome> {
    let held: Held;
    try {
      held = await this.container(spec.workspace ?? this.options.workspace, containerKey(spec.workspace ?? this.options.workspace));
    } catch (err) {
      return { exitCode: null, signal: null, end: "spawn-error", durationMs: 0, pid: undefined, stdoutTail: "", stderrTail: "", outputTail: "", droppedBytes: 0, error: (err as Error).message };
    }
    const outcome = await runExec({ container: held.container, user: this.options.user, onGone: (listener) => held.onGone(listener) }, spec);
    if (outcome.end === "transport-lost") this.forget(held);
    return outcome;
  }

  /** The attempt that was running when the earlier orc died ran in its container, which is gone now. */
  stopOrphan(): boolean {
    return this.orphanOfRun;
  }

  /** A task's directory is done with: its container goes now rather than with the run. */
  async release(workspace: string): Promise<void> {
    if (workspace === this.options.workspace) return;
    const mine = [...this.held.entries()].filter(([key]) => key === workspace || key.startsWith(`${workspace}\0`));
    for (const [key] of mine) this.held.delete(key);
    await Promise.all(
      mine.map(async ([, starting]) => {
        const held = await starting.catch(() => undefined);
        if (held === undefined) return;
        held.release();
        await removeContainer(held.container);
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(
      all.map(async (starting) => {
        const held = await starting.catch(() => undefined);
        if (held === undefined) return;
        held.release();
        await removeContainer(held.container);
      }),
    );
  }

  /** The container for `dir`, started on first use; one start shared by processes that ask at once. */
  private container(dir: string, key: string): Promise<Held> {
    if (this.closed) return Promise.reject(new Error("the docker transport is closed"));
    const current = this.held.get(key);
    if (current !== undefined) {
      return current.then((held) => {
        if (!held.isGone() && !this.dropped.has(held)) return held;
        this.forget(held);
        if (this.held.get(key) === current) this.held.delete(key);
        return this.container(dir, key);
      });
    }
    const started = startContainer(this.docker, this.options, dir);
    this.held.set(key, started);
    // A failed start is not kept: the next process tries again (the engine may be back).
    started.catch(() => {
      if (this.held.get(key) === started) this.held.delete(key);
    });
    return started;
  }

  /** Drops a container that died (or whose engine connection broke): the next process gets a fresh one. */
  private forget(held: Held): void {
    if (this.dropped.has(held)) return;
    this.dropped.add(held);
    held.release();
    void removeContainer(held.container);
  }
}
