/**
 * The `docker` transport: every process of a run (agents and gates) runs in one container of the run's, made from the
 * configured image on the first process and again after the container died (a reconnect). See container.ts for its
 * settings and exec.ts for one process.
 */
import type Docker from "dockerode";
import type { ProcessOutcome, ProcessSpec, Transport } from "../port.js";
import { removeContainer, startContainer, type Held } from "./container.js";
import { runExec } from "./exec.js";
import type { DockerOptions } from "./options.js";

export class DockerTransport implements Transport {
  readonly kind = "docker";
  private held: Promise<Held> | undefined;
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
      held = await this.container();
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

  async close(): Promise<void> {
    this.closed = true;
    const held = await this.held?.catch(() => undefined);
    this.held = undefined;
    if (held === undefined) return;
    held.release();
    await removeContainer(held.container);
  }

  /** The run's container, started on first use; one start shared by processes that ask at once. */
  private container(): Promise<Held> {
    if (this.closed) return Promise.reject(new Error("the docker transport is closed"));
    const current = this.held;
    if (current !== undefined) {
      return current.then((held) => {
        if (!held.isGone() && !this.dropped.has(held)) return held;
        this.forget(held);
        if (this.held === current) this.held = undefined;
        return this.container();
      });
    }
    const started = startContainer(this.docker, this.options);
    this.held = started;
    // A failed start is not kept: the next process tries again (the engine may be back).
    started.catch(() => {
      if (this.held === started) this.held = undefined;
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
