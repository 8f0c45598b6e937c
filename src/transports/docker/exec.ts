/**
 * One process run in the container through `docker exec`, with the supervisor's contract (src/transports/supervisor.ts):
 * streamed and bounded output, stdin, env, working directory, timeouts, cancellation of the whole process tree.
 *
 * The engine runs each exec as a session (and group) leader, but closing its stream kills nothing: the command is
 * started by a tiny shell that first prints its pid (its group id) on stderr, then `exec`s the command. A stop sends
 * `kill -TERM -PGID`, then `-KILL` after the grace, each through a second exec as the same user. The pid line is taken
 * off stderr before anyone sees it.
 *
 *   running ──timeout/stall/abort──▶ terminating ──grace over──▶ draining ──stream end/cap──▶ done
 *      └──────────────────────────────stream end (the process exited)──────────────────────────┘
 *
 * A stream that breaks (the engine connection failed) or a process that died with its container ends `transport-lost`.
 */
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import type { ProcessEnd } from "../../core/events.js";
import { OutputTails } from "../output-tails.js";
import type { ProcessOutcome, ProcessSpec } from "../port.js";
import { DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_OUTPUT_BYTES, DRAIN_CAP_MS } from "../supervisor.js";
import { messageOf, statusOf } from "./container.js";
import { Demuxer } from "./demux.js";

/** Prints the group id, then becomes the command (so the pid is the command's own). */
const WRAPPER = 'echo "$$" >&2; exec "$@"';
/** Signals the group, or the process alone if it left its group; a group already gone is no error. */
const KILLER = 'kill -s "$1" -- "-$2" 2>/dev/null || kill -s "$1" "$2" 2>/dev/null; exit 0';

/** The container a run goes to, as exec.ts needs it. */
export interface ExecTarget {
  readonly container: Docker.Container;
  readonly user: string;
  /** Calls back when the container's lifeline ends (it died, or the engine connection did); returns the unsubscribe. */
  onGone(listener: () => void): () => void;
}

/** The command line the exec starts: the wrapper, then the command as the local supervisor would run it. */
export function execCommand(spec: ProcessSpec): string[] {
  const inner = spec.shell === true ? ["/bin/sh", "-c", spec.command, "sh", ...(spec.args ?? [])] : [spec.command, ...(spec.args ?? [])];
  return ["/bin/sh", "-c", WRAPPER, "orc-exec", ...inner];
}

export async function runExec(target: ExecTarget, spec: ProcessSpec): Promise<ProcessOutcome> {
  if (spec.signal?.aborted === true) return emptyOutcome("cancelled", 0);
  const started = performance.now();
  const withStdin = spec.stdin !== undefined;
  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    exec = await target.container.exec({
      Cmd: execCommand(spec),
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      WorkingDir: spec.cwd,
      User: target.user,
      AttachStdin: withStdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    stream = await exec.start({ hijack: true, stdin: withStdin });
  } catch (err) {
    return startFailure(err, started);
  }
  return new ExecRun(target, exec, stream, spec, started).watch();
}

/** The exec could not be made: the container is gone or the engine does not answer. */
function startFailure(err: unknown, started: number): ProcessOutcome {
  const status = statusOf(err);
  const why = status === 404 || status === 409 ? "the container is gone" : `the docker engine failed: ${messageOf(err)}`;
  return { ...emptyOutcome("transport-lost", started), error: why };
}

type Phase = "running" | "terminating" | "draining" | "done";

class ExecRun {
  private phase: Phase = "running";
  private end: ProcessEnd = "exited";
  private pid: number | undefined;
  /** Stderr bytes before the pid line is complete. */
  private head: Buffer | undefined = Buffer.alloc(0);
  /** A signal asked for before the pid was known: sent once it is. */
  private queuedSignal: "TERM" | "KILL" | undefined;
  private lastOutputAt: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly output: OutputTails;
  private readonly demux: Demuxer;
  private readonly killGraceMs: number;
  private resolve: (outcome: ProcessOutcome) => void = () => undefined;
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly target: ExecTarget,
    private readonly exec: Docker.Exec,
    private readonly stream: Duplex,
    private readonly spec: ProcessSpec,
    private readonly started: number,
  ) {
    this.lastOutputAt = started;
    this.killGraceMs = Math.max(0, spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    this.output = new OutputTails(Math.max(0, spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES), spec);
    this.demux = new Demuxer((which, chunk) => {
      this.onOutput(which, chunk);
    });
  }

  watch(): Promise<ProcessOutcome> {
    return new Promise<ProcessOutcome>((resolve) => {
      this.resolve = resolve;
      this.stream.on("data", (chunk: Buffer) => {
        this.demux.write(chunk);
      });
      this.stream.on("end", this.onStreamEnd);
      this.stream.on("close", this.onStreamEnd);
      this.stream.on("error", this.onStreamError);
      if (this.spec.stdin !== undefined) {
        // Half-close after the text: the process sees end of input, its output keeps coming.
        this.stream.end(this.spec.stdin);
      }
      this.unsubscribe = this.target.onGone(() => {
        this.lost("the container died");
      });
      const timeoutMs = this.spec.timeoutMs ?? 0;
      const inactivityMs = this.spec.inactivityTimeoutMs ?? 0;
      if (timeoutMs > 0) this.arm(timeoutMs, () => { this.terminate("timeout"); });
      if (inactivityMs > 0) this.arm(inactivityMs, () => { this.checkInactivity(inactivityMs); });
      this.spec.signal?.addEventListener("abort", this.onAbort, { once: true });
    });
  }

  private onOutput(which: "stdout" | "stderr", chunk: Buffer): void {
    this.lastOutputAt = performance.now();
    if (which === "stderr" && this.head !== undefined) {
      const head = Buffer.concat([this.head, chunk]);
      const newline = head.indexOf(10);
      if (newline < 0) {
        this.head = head;
        return;
      }
      this.head = undefined;
      this.onPid(Number(head.subarray(0, newline).toString("latin1")));
      chunk = head.subarray(newline + 1);
      if (chunk.length === 0) return;
    }
    this.output.write(which, chunk);
  }

  private onPid(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) return;
    this.pid = pid;
    try {
      this.spec.onSpawn?.({ pid });
    } catch {
      // An observer's bug must not take the run down.
    }
    if (this.queuedSignal !== undefined) this.signal(this.queuedSignal);
  }

  private checkInactivity(inactivityMs: number): void {
    const quiet = performance.now() - this.lastOutputAt;
    if (quiet >= inactivityMs) this.terminate("stalled");
    else this.arm(inactivityMs - quiet, () => { this.checkInactivity(inactivityMs); });
  }

  private terminate(reason: ProcessEnd): void {
    if (this.phase !== "running") return;
    this.enter("terminating");
    this.end = reason;
    this.signal("TERM");
    this.arm(this.killGraceMs, () => { this.drain(); });
  }

  private drain(): void {
    if (this.phase !== "running" && this.phase !== "terminating") return;
    this.enter("draining");
    this.signal("KILL");
    this.arm(DRAIN_CAP_MS, () => { this.finish(this.end); });
  }

  /** `kill -SIG -PGID` through a second exec; fire and forget (a dead container ends the stream anyway). */
  private signal(sig: "TERM" | "KILL"): void {
    if (this.pid === undefined) {
      this.queuedSignal = sig;
      return;
    }
    const cmd = ["/bin/sh", "-c", KILLER, "orc-kill", sig, String(this.pid)];
    void this.target.container
      .exec({ Cmd: cmd, User: this.target.user, AttachStdout: false, AttachStderr: false })
      .then((killer) => killer.start({ Detach: true }))
      // The engine answers a detached start with an (empty) stream: read it to its end, or its socket keeps orc alive.
      .then((answer: NodeJS.ReadableStream) => answer.resume())
      .catch(() => undefined);
  }

  private settling = false;

  private readonly onStreamEnd = (): void => {
    if (this.phase === "done" || this.settling) return;
    this.settling = true;
    void this.settle();
  };

  private readonly onStreamError = (err: Error): void => {
    this.lost(`the docker engine connection failed: ${err.message}`);
  };

  private readonly onAbort = (): void => {
    this.terminate("cancelled");
  };

  /** The stream ended: the exit code, or the news that the container (or the engine) went away under the process. */
  private async settle(): Promise<void> {
    let info: Docker.ExecInspectInfo | undefined;
    try {
      info = await this.exec.inspect();
      // The stream can end a moment before the engine records the exit.
      for (let i = 0; i < 50 && info.Running; i++) {
        await new Promise((r) => setTimeout(r, 10));
        info = await this.exec.inspect();
      }
    } catch (err) {
      this.lost(statusOf(err) === 404 ? "the container died" : `the docker engine failed: ${messageOf(err)}`);
      return;
    }
    const code = info.ExitCode;
    // Killed (by a signal) while nobody here asked: perhaps with its container. Only then is the container asked.
    if (this.phase === "running" && (code === null || code >= 128) && (await this.containerDying())) {
      this.lost("the container died");
      return;
    }
    if (this.pid === undefined) {
      // The wrapper never ran: the engine could not start the process (a missing directory or user, no /bin/sh).
      const why = this.output.kept().outputTail.trim() || `the process could not start in the container (exit ${String(code)})`;
      this.finish("spawn-error", code, why);
      return;
    }
    this.finish(this.end, code);
  }

  /**
   * Whether the container is going: a killed container's processes die (and their streams end) a moment before the
   * engine marks it stopped, so it is asked a few times over half a second; its lifeline ending settles it at once.
   */
  private async containerDying(): Promise<boolean> {
    const lifeline = { gone: false };
    const unsubscribe = this.target.onGone(() => {
      lifeline.gone = true;
    });
    try {
      for (let i = 0; i < 10 && !lifeline.gone; i++) {
        const state = await this.target.container.inspect().catch(() => undefined);
        if (state === undefined || !state.State.Running) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return lifeline.gone;
    } finally {
      unsubscribe();
    }
  }

  private lost(why: string): void {
    if (this.phase === "done") return;
    this.finish("transport-lost", null, why);
  }

  private finish(end: ProcessEnd, exitCode: number | null = null, error?: string): void {
    if (this.phase === "done") return;
    this.enter("done");
    this.spec.signal?.removeEventListener("abort", this.onAbort);
    this.unsubscribe();
    this.stream.removeAllListeners("data");
    this.stream.on("error", () => undefined);
    this.stream.destroy();
    // A pid line that never ended is output after all.
    if (this.head !== undefined && this.head.length > 0) this.output.write("stderr", this.head);
    this.output.flush();
    const signal = exitCode !== null && exitCode > 128 && end !== "exited" ? signalName(exitCode - 128) : null;
    this.resolve({
      exitCode: signal === null ? exitCode : null,
      signal,
      end,
      durationMs: Math.round(performance.now() - this.started),
      pid: this.pid,
      ...this.output.kept(),
      ...(error === undefined ? {} : { error }),
    });
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(ms: number, fire: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fire();
    }, ms);
    this.timers.add(timer);
  }
}

function signalName(n: number): string {
  return n === 9 ? "SIGKILL" : n === 15 ? "SIGTERM" : n === 2 ? "SIGINT" : `SIG${String(n)}`;
}

function emptyOutcome(end: ProcessEnd, started: number): ProcessOutcome {
  return {
    exitCode: null,
    signal: null,
    end,
    durationMs: started === 0 ? 0 : Math.round(performance.now() - started),
    pid: undefined,
    stdoutTail: "",
    stderrTail: "",
    outputTail: "",
    droppedBytes: 0,
  };
}
