/**
 * One process on the remote, through the wrapper (wrapper.ts), with the supervisor's contract: streamed and bounded
 * output, exit status, stdin, timeouts, inactivity, cancellation. Stopping it sends `kill -TERM` then, after the
 * grace, `kill -KILL` to the remote process group over another channel (closing the channel would leave it running).
 * A connection lost under it ends it as `transport-lost`.
 */
import type { ProcessEnd } from "../../core/events.js";
import { OutputTails } from "../output-tails.js";
import type { ProcessOutcome, ProcessSpec } from "../port.js";
import { DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_OUTPUT_BYTES, DRAIN_CAP_MS } from "../supervisor.js";
import { exitOf, type SshConnection } from "./connection.js";
import { ControlRecords } from "./control-records.js";
import { release, type ProcessChannels, type WrapperChannel } from "./process-channels.js";
import { wrapperLine } from "./wrapper.js";

export interface RemoteCall {
  readonly spec: ProcessSpec;
  readonly cwd: string;
  readonly workspace: string;
  readonly meta: string;
  /**
   * The environment as the remote gets it (paths mapped), written to the wrapper once known; undefined: the process
   * must not run (what it was waiting for failed): the wrapper gets no environment line and exits.
   */
  readonly env: PromiseLike<Readonly<Record<string, string>> | undefined>;
  /** Names the connection in messages. */
  readonly where: string;
  /** The barrier file the wrapper creates at exit when the remote watcher runs (remote-watch.ts). */
  readonly barrier?: string;
}

/** What the wrapper reported at the end; absent when it never got there (killed, connection lost). */
export interface RemoteEnd {
  readonly status: number;
  readonly changed: boolean;
  readonly gitChanged: boolean;
  /** The wrapper created its barrier instead of checking: the remote watcher says whether anything changed. */
  readonly watched: boolean;
  /** The wrapper could say nothing (its barrier could not be made): orc pulls in full. */
  readonly unknown: boolean;
}

export interface RemoteResult {
  readonly outcome: ProcessOutcome;
  readonly end?: RemoteEnd;
  /** The remote process group, once the wrapper reported it. */
  readonly pgid?: number;
}

export async function runRemote(channels: ProcessChannels, call: RemoteCall): Promise<RemoteResult> {
  const { spec } = call;
  const { conn } = channels;
  const started = performance.now();
  const output = new OutputTails(Math.max(0, spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES), spec);
  const done = (end: ProcessEnd, error?: string): { outcome: ProcessOutcome } => {
    output.flush();
    return { outcome: { exitCode: null, signal: null, end, durationMs: Math.round(performance.now() - started), pid: undefined, ...output.kept(), ...(error === undefined ? {} : { error }) } };
  };
  if (spec.signal?.aborted === true) return done("cancelled");
  const line = (env: Readonly<Record<string, string>>): string =>
    wrapperLine(
      {
        cwd: call.cwd,
        workspace: call.workspace,
        meta: call.meta,
        shell: spec.shell === true,
        stdin: spec.stdin !== undefined,
        command: spec.command,
        args: spec.args ?? [],
        ...(call.barrier === undefined ? {} : { barrier: call.barrier }),
      },
      env,
    );
  // A second channel only when the first closed before its wrapper said it would run the command (`go`): one opened
  // ahead whose wrapper was killed, or that the server closed, while it waited. The command never ran there.
  for (let tries = 0; ; tries++) {
    let taken: WrapperChannel | undefined;
    try {
      taken = await untilAborted(channels.take(), spec.signal);
    } catch (error) {
      return conn.lost === undefined ? done("spawn-error", `ssh: cannot start a remote process on ${call.where}: ${(error as Error).message}`) : done("transport-lost", lostMessage(call.where, conn.lost));
    }
    // Cancelled while it waited for a process slot (every one held): it never started, and the channel it would
    // have got is let go as soon as it comes.
    if (taken === undefined) return done("cancelled");
    const result = await runOn(conn, taken, { call, output, started, line, retryable: tries === 0 });
    if (result !== undefined) return result;
  }
}

/** The channel, or undefined once `signal` aborts first (the channel is then released when it comes). */
function untilAborted(taking: Promise<WrapperChannel>, signal: AbortSignal | undefined): Promise<WrapperChannel | undefined> {
  if (signal === undefined) return taking;
  return new Promise((resolve, reject) => {
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      resolve(undefined);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    taking.then(
      (taken) => {
        signal.removeEventListener("abort", onAbort);
        if (cancelled) release(taken.channel);
        else resolve(taken);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        if (!cancelled) reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

interface RunOn {
  readonly call: RemoteCall;
  readonly output: OutputTails;
  readonly started: number;
  readonly line: (env: Readonly<Record<string, string>>) => string;
  /** Undefined instead of an outcome when the channel closes before the command could start. */
  readonly retryable: boolean;
}

/** The process on `taken`, from its line to its end; undefined when it never started and may be tried again. */
function runOn(conn: SshConnection, taken: WrapperChannel, { call, output, started, line, retryable }: RunOn): Promise<RemoteResult | undefined> {
  const { spec } = call;
  const { channel, nonce } = taken;
  return new Promise((resolve) => {
    let end: ProcessEnd = "exited";
    /** The wrapper read its line and goes on to run the command. */
    let going = false;
    /** orc ended the channel without a line: nothing is to run. */
    let withheld = false;
    let pgid: number | undefined;
    let trailer: RemoteEnd | undefined;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let lastOutput = performance.now();
    let stopping = false;
    let finished = false;
    const timers = new Set<NodeJS.Timeout>();
    const arm = (ms: number, fire: () => void): void => {
      const t = setTimeout(() => { timers.delete(t); fire(); }, ms);
      timers.add(t);
    };
    const killGraceMs = Math.max(0, spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    let whenPgid: (() => void) | undefined;
    /**
     * What the channel printed before the wrapper went on (a login shell's own noise, its errors): passed on once it
     * does, or at the end; dropped with a channel that is given up, so a retried process shows it once.
     */
    const before: ["stdout" | "stderr", Buffer][] = [];
    const emit = (stream: "stdout" | "stderr", chunk: Buffer): void => {
      lastOutput = performance.now();
      if (going) output.write(stream, chunk);
      else before.push([stream, chunk]);
    };

    const records = new ControlRecords(
      nonce,
      (body) => {
        const [kind, a, b] = body.split(":");
        if (kind === "pid") {
          pgid = Number(a);
          whenPgid?.();
        } else if (kind === "go") {
          going = true;
          for (const [stream, chunk] of before.splice(0)) output.write(stream, chunk);
        } else if (kind === "end") trailer = { status: Number(a), changed: (b ?? "").startsWith("changed"), gitChanged: (b ?? "").endsWith("+git"), watched: b === "watched", unknown: b === "unknown" };
      },
      (chunk) => { emit("stderr", chunk); },
    );

    const signalGroup = (signal: "TERM" | "KILL"): void => {
      if (pgid === undefined || conn.lost !== undefined) return;
      void conn.killer.kill(signal, pgid);
    };
    const terminate = (reason: ProcessEnd): void => {
      if (stopping || finished) return;
      stopping = true;
      end = reason;
      const go = (): void => {
        signalGroup("TERM");
        arm(killGraceMs, () => {
          signalGroup("KILL");
          // The channel should close now; if it does not (the connection is wedged), stop waiting.
          arm(DRAIN_CAP_MS + 1000, () => { finish(); });
        });
      };
      if (pgid !== undefined) go();
      else whenPgid = go;
    };
    const onAbort = (): void => { terminate("cancelled"); };
    const stopLost = conn.onLost((reason) => {
      if (finished) return;
      end = "transport-lost";
      finish(lostMessage(call.where, reason));
    });

    /** Stops listening and watching: the run is over (or starts again on another channel). */
    const drop = (): void => {
      finished = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      spec.signal?.removeEventListener("abort", onAbort);
      stopLost();
    };
    const finish = (error?: string): void => {
      if (finished) return;
      drop();
      records.end();
      for (const [stream, chunk] of before.splice(0)) output.write(stream, chunk);
      output.flush();
      // The wrapper ended before it could start the command, though orc sent its line and did not stop it.
      if (error === undefined && !going && !withheld && !stopping && end === "exited") {
        error = `ssh: the remote wrapper on ${call.where} ended before it started the command (does the login shell's startup read stdin or exit?)`;
      }
      const status = trailer?.status ?? exitCode;
      resolve({
        outcome: {
          exitCode: end === "transport-lost" ? null : status,
          signal: trailer === undefined && end !== "transport-lost" ? exitSignal : null,
          end,
          durationMs: Math.round(performance.now() - started),
          pid: undefined,
          ...output.kept(),
          ...(error === undefined ? {} : { error }),
        },
        ...(trailer === undefined ? {} : { end: trailer }),
        ...(pgid === undefined ? {} : { pgid }),
      });
    };

    channel.on("data", (chunk: Buffer) => { emit("stdout", chunk); });
    channel.stderr.on("data", (chunk: Buffer) => { records.write(chunk); });
    channel.on("close", () => {
      if (retryable && !going && !withheld && !stopping && !finished && conn.lost === undefined) {
        drop();
        resolve(undefined);
        return;
      }
      ({ code: exitCode, signal: exitSignal } = exitOf(channel));
      finish();
    });

    // The clocks start when the command can: the wrapper may wait for its environment while orc updates the copy.
    const startClocks = (): void => {
      lastOutput = performance.now();
      const timeoutMs = spec.timeoutMs ?? 0;
      const inactivityMs = spec.inactivityTimeoutMs ?? 0;
      if (timeoutMs > 0) arm(timeoutMs, () => { terminate("timeout"); });
      if (inactivityMs > 0) {
        const check = (): void => {
          const quiet = performance.now() - lastOutput;
          if (quiet >= inactivityMs) terminate("stalled");
          else arm(inactivityMs - quiet, check);
        };
        arm(inactivityMs, check);
      }
    };
    spec.signal?.addEventListener("abort", onAbort, { once: true });
    // Aborted while waiting for a channel: the wrapper is there all the same, so it is stopped like any process.
    if (spec.signal?.aborted === true) terminate("cancelled");

    void Promise.resolve(call.env).then((env) => {
      if (finished) return;
      // No line (the copy could not be made ready, or the process was stopped before it could start): the wrapper
      // reads end-of-file and exits without running anything.
      if (env === undefined || stopping) {
        withheld = true;
        whenPgid = undefined; // nothing to signal: the wrapper exits by itself
        channel.end();
        return;
      }
      startClocks();
      channel.write(line(env));
      channel.end(spec.stdin);
    });
  });
}

function lostMessage(where: string, reason: string): string {
  return `the SSH connection to ${where} was lost while the process ran (${reason}); orc reconnects for the next one`;
}
