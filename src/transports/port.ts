import type { ProcessEnd, SpawnedProcess } from "../core/events.js";

/** One process to run, with every limit the supervisor enforces. */
export interface ProcessSpec {
  /** Executable, or a command line when `shell` is true (run by `/bin/sh -c`). */
  readonly command: string;
  readonly args?: readonly string[];
  readonly shell?: boolean;
  readonly cwd: string;
  /**
   * The directory this process may write, when it is not the transport's own workspace: a task's own directory while
   * tasks run side by side (src/workspace/task-dirs.ts). Local ignores it; the sandbox binds it instead of its
   * workspace (which stays readable); a container must mount it, a remote transport sync it both ways (docs/architecture.md, Ports).
   */
  readonly workspace?: string;
  /** The complete environment of the child (nothing is inherited implicitly). */
  readonly env: Readonly<Record<string, string>>;
  /** Text written to stdin, then closed; omitted means stdin is ignored (an open stdin makes some CLIs hang). */
  readonly stdin?: string;
  /** Overall limit; 0 or omitted means none. */
  readonly timeoutMs?: number;
  /** Kill when neither stdout nor stderr produced a byte for this long; 0 or omitted means none. */
  readonly inactivityTimeoutMs?: number;
  /** Bytes of output kept (the tail); default 64 KiB. */
  readonly maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL to the process group; default 2000 ms. */
  readonly killGraceMs?: number;
  readonly signal?: AbortSignal;
  /** Streamed output, for agents that parse events as they arrive. */
  readonly onStdout?: (chunk: string) => void;
  /** Called once the process exists (its pid is also its process group id). */
  readonly onSpawn?: (process: SpawnedProcess) => void;
  readonly onStderr?: (chunk: string) => void;
}

export interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly end: ProcessEnd;
  readonly durationMs: number;
  readonly pid: number | undefined;
  /** Tails of each stream and of both interleaved in arrival order, each at most maxOutputBytes. */
  readonly stdoutTail: string;
  readonly stderrTail: string;
  readonly outputTail: string;
  /** Bytes dropped from the front of the combined output. */
  readonly droppedBytes: number;
  /** Set when end is `spawn-error`. */
  readonly error?: string;
}

/** Where processes run (local, sandbox; docker and ssh). Gates run in the same transport as the agent. */
export interface Transport {
  readonly kind: string;
  run(spec: ProcessSpec): Promise<ProcessOutcome>;
  /** Kills the group of a process started by an earlier orc that died without stopping it; true if one was killed. */
  stopOrphan?(process: SpawnedProcess): boolean;
  /**
   * Releases what the transport holds for one directory processes worked in (a task's own, its task ended): its
   * container, its remote copy. The directory's next process makes them again.
   */
  release?(workspace: string): Promise<void>;
  /** Releases what the transport holds for the run (a connection, a container); called once when the run's driver ends. */
  close?(): Promise<void>;
}

/** What a transport is built for: one run in one workspace. */
export interface TransportContext {
  readonly workspace: string;
  readonly stateDir: string;
  readonly runId: string;
  /** orc's environment, only defined variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Where the run's prompt files are written (under the state directory). */
  readonly promptDir: string;
  /**
   * The run's directory agents write their own files in (aider's chat history), under the state directory and apart
   * from the prompt directory, which stays read-only: orc writes prompt files there, and an agent must not plant a
   * link where orc will write. orc never writes into this one.
   */
  readonly scratchDir: string;
}

/** The transport, and the environment children start from in it. */
export interface BuiltTransport {
  readonly transport: Transport;
  readonly env: Readonly<Record<string, string>>;
}
