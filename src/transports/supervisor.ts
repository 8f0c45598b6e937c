/**
 * The one process supervisor: nothing else in orc spawns. Every child runs in its own process group so a timeout,
 * a stall or a cancel kills the whole tree (a shell's background jobs included), never just the leader.
 *
 * One run is a small state machine (SupervisedRun); every event below either moves it forward or is ignored:
 *
 *   running ──timeout/stall/abort──▶ terminating ──grace over──▶ draining ──close/cap──▶ done
 *      │                                  │                         ▲
 *      └────────────leader exit───────────┴────────leader exit──────┘
 *
 * - running:     the leader is alive and nobody asked it to stop.
 * - terminating: SIGTERM went to the group; SIGKILL follows after killGraceMs unless the leader exits first.
 * - draining:    the group has been sent SIGKILL (after the grace, or as soon as the leader exited, so that no
 *                grandchild outlives the run holding our pipes); we wait for `close` (all output read), but at most
 *                DRAIN_CAP_MS, because a grandchild that escaped the group (setsid) can keep a pipe open forever.
 * - done:        the promise is resolved, every timer is cleared and every listener we own is removed.
 * A spawn failure goes straight from running to done.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type { ProcessEnd } from "../core/events.js";
import { OutputTails } from "./output-tails.js";
import type { ProcessOutcome, ProcessSpec } from "./port.js";
import { killGroup, killGroupButLeader, spawnGroupLeader } from "./process-group.js";
import { identify } from "./process-identity.js";
import { groupReaper } from "./reaper.js";

export { TailBuffer } from "./tail-buffer.js";

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
export const DEFAULT_KILL_GRACE_MS = 2000;
/** How long `draining` waits for the pipes to close before giving up on them. */
export const DRAIN_CAP_MS = 2000;

/** What a transport asks of the supervisor beyond the port's spec. */
export interface SupervisedSpec extends ProcessSpec {
  /** SIGTERM to the group's other members only (the leader is a wrapper such as bwrap that must outlive them). */
  readonly spareLeaderOnTerm?: boolean;
}

export function supervise(spec: SupervisedSpec): Promise<ProcessOutcome> {
  // An already-aborted run must not start anything: the caller has moved on.
  if (spec.signal?.aborted === true) return Promise.resolve(cancelledBeforeStart());

  return new Promise<ProcessOutcome>((resolve) => {
    const started = performance.now();
    const spawned = spawnGroupLeader(spec);
    if ("error" in spawned) resolve({ ...cancelledBeforeStart(), end: "spawn-error", error: spawned.error });
    else new SupervisedRun({ spec, child: spawned.child, started, resolve }).watch();
  });
}

type Phase = "running" | "terminating" | "draining" | "done";

interface SupervisedRunOptions {
  readonly spec: SupervisedSpec;
  readonly child: ChildProcess;
  /** performance.now() just before the spawn: the outcome's duration counts from here. */
  readonly started: number;
  readonly resolve: (outcome: ProcessOutcome) => void;
}

/** One spawned child, from its first event to the outcome. */
class SupervisedRun {
  private phase: Phase = "running";
  /** How the run ends: "exited" unless a timeout, a stall or a cancel stopped it. */
  private end: ProcessEnd = "exited";
  private exitCode: number | null = null;
  private exitSignal: string | null = null;
  private lastOutputAt: number;
  private readonly timers = new PhaseTimers();
  private readonly output: OutputTails;
  private readonly spec: SupervisedSpec;
  private readonly child: ChildProcess;
  private readonly started: number;
  private readonly resolve: (outcome: ProcessOutcome) => void;
  private readonly killGraceMs: number;

  constructor(options: SupervisedRunOptions) {
    this.spec = options.spec;
    this.child = options.child;
    this.started = options.started;
    this.resolve = options.resolve;
    this.lastOutputAt = options.started;
    this.killGraceMs = Math.max(0, this.spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    this.output = new OutputTails(Math.max(0, this.spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES), this.spec);
  }

  /** Listens to the child, feeds its stdin, then (once it has a pid) reports it and arms the watchdogs. */
  watch(): void {
    this.listen();
    this.feedStdin();
    if (this.child.pid === undefined) return; // spawn failed: `error` follows on the next tick and ends the run.
    const identity = identify(this.child.pid);
    groupReaper.track(this.child.pid, identity.startTime);
    this.spec.onSpawn?.(identity);
    this.armWatchdogs();
  }

  private listen(): void {
    this.child.on("error", this.onError);
    this.child.on("exit", this.onExit);
    this.child.on("close", this.onClose);
    this.child.stdout?.on("data", this.onStdoutData);
    this.child.stderr?.on("data", this.onStderrData);
    this.child.stdout?.on("error", ignoreLateError);
    this.child.stderr?.on("error", ignoreLateError);
  }

  private feedStdin(): void {
    const stdin = this.child.stdin;
    if (stdin === null) return;
    // A child that exits without reading its stdin makes our write fail with EPIPE: that is its business.
    stdin.on("error", ignoreLateError);
    stdin.end(this.spec.stdin);
  }

  private armWatchdogs(): void {
    const timeoutMs = this.spec.timeoutMs ?? 0;
    const inactivityMs = this.spec.inactivityTimeoutMs ?? 0;
    if (timeoutMs > 0) this.timers.arm(timeoutMs, () => { this.terminate("timeout"); });
    if (inactivityMs > 0) this.timers.arm(inactivityMs, () => { this.checkInactivity(inactivityMs); });
    this.spec.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  // The watchdog re-arms itself for the remaining quiet time instead of being reset on every chunk.
  private checkInactivity(inactivityMs: number): void {
    const quiet = performance.now() - this.lastOutputAt;
    if (quiet >= inactivityMs) this.terminate("stalled");
    else this.timers.arm(inactivityMs - quiet, () => { this.checkInactivity(inactivityMs); });
  }

  // running → terminating: ask the group to stop, insist after the grace.
  private terminate(reason: ProcessEnd): void {
    if (this.phase !== "running") return;
    this.enter("terminating");
    this.end = reason;
    if (this.spec.spareLeaderOnTerm === true) killGroupButLeader(this.child.pid, "SIGTERM");
    else killGroup(this.child.pid, "SIGTERM");
    this.timers.arm(this.killGraceMs, () => { this.drain(); });
  }

  // → draining: SIGKILL the group (a no-op if it is already gone), then wait a bounded time for the pipes.
  private drain(): void {
    if (this.phase !== "running" && this.phase !== "terminating") return;
    this.enter("draining");
    killGroup(this.child.pid, "SIGKILL");
    this.timers.arm(DRAIN_CAP_MS, () => {
      // Someone outside the group still holds a pipe: stop reading rather than wait for it.
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      this.finish({ end: this.end });
    });
  }

  // → done, once: nothing we own (timer, listener) outlives the outcome.
  private finish(outcome: { readonly end: ProcessEnd; readonly error?: string }): void {
    if (this.phase === "done") return;
    this.enter("done");
    if (this.child.pid !== undefined) groupReaper.untrack(this.child.pid);
    this.spec.signal?.removeEventListener("abort", this.onAbort);
    this.stopListening();
    this.output.flush();
    this.resolve({
      exitCode: this.exitCode,
      signal: this.exitSignal,
      end: outcome.end,
      durationMs: Math.round(performance.now() - this.started),
      pid: this.child.pid,
      ...this.output.kept(),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
  }

  /** Each phase owns the timers it arms: entering the next one clears them. */
  private enter(phase: Phase): void {
    this.phase = phase;
    this.timers.clearAll();
  }

  private stopListening(): void {
    this.child.stdout?.off("data", this.onStdoutData);
    this.child.stderr?.off("data", this.onStderrData);
    this.child.off("exit", this.onExit);
    this.child.off("close", this.onClose);
    this.child.off("error", this.onError);
    // Keep a no-op `error` listener: an unhandled `error` event would crash orc.
    this.child.on("error", ignoreLateError);
  }

  // Listeners are fields, not methods, so that the very function given to on() can be given to off().
  private readonly onStdoutData = (chunk: Buffer): void => {
    this.lastOutputAt = performance.now();
    this.output.write("stdout", chunk);
  };

  private readonly onStderrData = (chunk: Buffer): void => {
    this.lastOutputAt = performance.now();
    this.output.write("stderr", chunk);
  };

  private readonly onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    this.exitCode = code;
    this.exitSignal = signal;
    this.drain();
  };

  private readonly onClose = (): void => {
    this.finish({ end: this.end });
  };

  private readonly onError = (err: Error): void => {
    // After a successful spawn, `error` only reports a failed kill or write: the run goes on.
    if (this.child.pid === undefined) this.finish({ end: "spawn-error", error: spawnErrorMessage(err, this.spec) });
  };

  private readonly onAbort = (): void => {
    this.terminate("cancelled");
  };
}

/** The timers armed in the current phase, so that a phase change can clear them all. */
class PhaseTimers {
  private readonly pending = new Set<NodeJS.Timeout>();

  arm(ms: number, fire: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fire();
    }, ms);
    this.pending.add(timer);
  }

  clearAll(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}

function ignoreLateError(): void {
  // Late errors (EPIPE on stdin, a destroyed pipe) carry no news once the outcome is known.
}

function spawnErrorMessage(err: unknown, spec: ProcessSpec): string {
  const e = err as NodeJS.ErrnoException;
  // Node reports a missing cwd as `spawn /bin/sh ENOENT`, which sends users looking for the wrong file.
  if (e.code === "ENOENT" && !existsSync(spec.cwd)) return `working directory does not exist: ${spec.cwd}`;
  return e.message;
}

function cancelledBeforeStart(): ProcessOutcome {
  return {
    exitCode: null,
    signal: null,
    end: "cancelled",
    durationMs: 0,
    pid: undefined,
    stdoutTail: "",
    stderrTail: "",
    outputTail: "",
    droppedBytes: 0,
  };
}
