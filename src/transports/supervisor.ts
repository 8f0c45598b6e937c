/**
 * The one process supervisor: nothing else in orc spawns. Every child runs in its own process group so a timeout,
 * a stall or a cancel kills the whole tree (a shell's background jobs included), never just the leader.
 *
 * One run is a small state machine; every event below either moves it forward or is ignored:
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
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { ProcessEnd } from "../core/events.js";
import type { ProcessOutcome, ProcessSpec } from "./port.js";
import { identify } from "./process-identity.js";

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
export const DEFAULT_KILL_GRACE_MS = 2000;
/** How long `draining` waits for the pipes to close before giving up on them. */
export const DRAIN_CAP_MS = 2000;

type Phase = "running" | "terminating" | "draining" | "done";

/**
 * The last `max` bytes (UTF-8) of a text stream. Appends are amortised O(1): the text may grow to twice the limit
 * before it is cut back, and cuts land on a character boundary (so the kept tail may be a few bytes short).
 */
export class TailBuffer {
  private text = "";
  private bytes = 0;
  /** Bytes cut from the front so far. */
  dropped = 0;

  constructor(private readonly max: number) {}

  push(chunk: string): void {
    if (chunk === "") return;
    this.text += chunk;
    this.bytes += Buffer.byteLength(chunk, "utf8");
    if (this.bytes > this.max * 2) this.trim();
  }

  toString(): string {
    if (this.bytes > this.max) this.trim();
    return this.text;
  }

  private trim(): void {
    const buf = Buffer.from(this.text, "utf8");
    let start = Math.max(0, buf.length - this.max);
    // Never start inside a multibyte character: skip UTF-8 continuation bytes (10xxxxxx).
    while (start < buf.length && ((buf[start] ?? 0) & 0xc0) === 0x80) start++;
    this.dropped += start;
    this.text = buf.subarray(start).toString("utf8");
    this.bytes = buf.length - start;
  }
}

/** Signals a process group; the group may already be gone (ESRCH) or hold a process we may not signal (EPERM). */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Nothing left to kill, or nothing we may kill: either way there is nothing more to do.
  }
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

export function supervise(spec: ProcessSpec): Promise<ProcessOutcome> {
  // An already-aborted run must not start anything: the caller has moved on.
  if (spec.signal?.aborted === true) return Promise.resolve(cancelledBeforeStart());

  return new Promise<ProcessOutcome>((resolve) => {
    const started = performance.now();
    const maxBytes = Math.max(0, spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    const graceMs = Math.max(0, spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    const timeoutMs = spec.timeoutMs ?? 0;
    const inactivityMs = spec.inactivityTimeoutMs ?? 0;

    const stdoutTail = new TailBuffer(maxBytes);
    const stderrTail = new TailBuffer(maxBytes);
    const combinedTail = new TailBuffer(maxBytes);
    // One decoder per stream: a multibyte character split across two reads is held back until it is complete.
    const stdoutDecoder = new StringDecoder("utf8");
    const stderrDecoder = new StringDecoder("utf8");

    let phase: Phase = "running";
    let end: ProcessEnd = "exited";
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let lastOutputAt = started;
    let overallTimer: NodeJS.Timeout | undefined;
    let inactivityTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let child: ChildProcess;

    const finish = (outcome: { end: ProcessEnd; error?: string }): void => {
      if (phase === "done") return;
      phase = "done";
      clearTimeout(overallTimer);
      clearTimeout(inactivityTimer);
      clearTimeout(graceTimer);
      clearTimeout(drainTimer);
      spec.signal?.removeEventListener("abort", onAbort);
      detach();
      // Whatever the decoders still hold (an incomplete character at the very end) becomes U+FFFD, not silence.
      emit("stdout", stdoutDecoder.end());
      emit("stderr", stderrDecoder.end());
      resolve({
        exitCode,
        signal: exitSignal,
        end: outcome.end,
        durationMs: Math.round(performance.now() - started),
        pid: child.pid,
        stdoutTail: stdoutTail.toString(),
        stderrTail: stderrTail.toString(),
        outputTail: combinedTail.toString(),
        droppedBytes: combinedTail.dropped,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
      });
    };

    const emit = (stream: "stdout" | "stderr", text: string): void => {
      if (text === "") return;
      (stream === "stdout" ? stdoutTail : stderrTail).push(text);
      combinedTail.push(text);
      const observer = stream === "stdout" ? spec.onStdout : spec.onStderr;
      try {
        observer?.(text);
      } catch {
        // A throwing observer is a bug in its owner; it must not take the supervisor (and the process group) down.
      }
    };

    // running → terminating: ask the group to stop, insist after the grace.
    const terminate = (reason: ProcessEnd): void => {
      if (phase !== "running") return;
      phase = "terminating";
      end = reason;
      clearTimeout(overallTimer);
      clearTimeout(inactivityTimer);
      killGroup(child.pid, "SIGTERM");
      graceTimer = setTimeout(startDraining, graceMs);
    };

    // → draining: SIGKILL the group (a no-op if it is already gone), then wait a bounded time for the pipes.
    const startDraining = (): void => {
      if (phase !== "running" && phase !== "terminating") return;
      phase = "draining";
      clearTimeout(overallTimer);
      clearTimeout(inactivityTimer);
      clearTimeout(graceTimer);
      killGroup(child.pid, "SIGKILL");
      drainTimer = setTimeout(() => {
        // Someone outside the group still holds a pipe: stop reading rather than wait for it.
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ end });
      }, DRAIN_CAP_MS);
    };

    const onAbort = (): void => {
      terminate("cancelled");
    };

    // The watchdog re-arms itself for the remaining quiet time instead of being reset on every chunk.
    const checkInactivity = (): void => {
      const quiet = performance.now() - lastOutputAt;
      if (quiet >= inactivityMs) terminate("stalled");
      else inactivityTimer = setTimeout(checkInactivity, inactivityMs - quiet);
    };

    const onStdoutData = (chunk: Buffer): void => {
      lastOutputAt = performance.now();
      emit("stdout", stdoutDecoder.write(chunk));
    };
    const onStderrData = (chunk: Buffer): void => {
      lastOutputAt = performance.now();
      emit("stderr", stderrDecoder.write(chunk));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      exitCode = code;
      exitSignal = signal;
      startDraining();
    };
    const onClose = (): void => {
      finish({ end });
    };
    const onError = (err: Error): void => {
      // After a successful spawn, `error` only reports a failed kill or write: the run goes on.
      if (child.pid === undefined) finish({ end: "spawn-error", error: spawnErrorMessage(err, spec) });
    };
    const ignore = (): void => {
      // Late errors (EPIPE on stdin, a destroyed pipe) carry no news once the outcome is known.
    };

    const detach = (): void => {
      child.stdout?.off("data", onStdoutData);
      child.stderr?.off("data", onStderrData);
      child.off("exit", onExit);
      child.off("close", onClose);
      child.off("error", onError);
      // Keep a no-op `error` listener: an unhandled `error` event would crash orc.
      child.on("error", ignore);
    };

    const file = spec.shell === true ? "/bin/sh" : spec.command;
    // With a shell, extra args become the script's positional parameters ($1, $2, …).
    const args = spec.shell === true ? ["-c", spec.command, "sh", ...(spec.args ?? [])] : [...(spec.args ?? [])];
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: spec.env,
        // Own process group (and session), so one kill(-pid) reaches every descendant that did not escape.
        detached: true,
        stdio: [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
    } catch (err) {
      // Synchronous failures (e.g. a NUL byte in an argument) are spawn errors too, never a throw.
      resolve({ ...cancelledBeforeStart(), end: "spawn-error", error: (err as Error).message });
      return;
    }

    child.on("error", onError);
    child.on("exit", onExit);
    child.on("close", onClose);
    child.stdout?.on("data", onStdoutData);
    child.stderr?.on("data", onStderrData);
    child.stdout?.on("error", ignore);
    child.stderr?.on("error", ignore);
    if (child.stdin) {
      // A child that exits without reading its stdin makes our write fail with EPIPE: that is its business.
      child.stdin.on("error", ignore);
      child.stdin.end(spec.stdin);
    }

    if (child.pid === undefined) return; // spawn failed: `error` follows on the next tick and ends the run.
    if (spec.onSpawn !== undefined) spec.onSpawn(identify(child.pid));

    if (timeoutMs > 0) overallTimer = setTimeout(() => { terminate("timeout"); }, timeoutMs);
    if (inactivityMs > 0) inactivityTimer = setTimeout(checkInactivity, inactivityMs);
    spec.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
