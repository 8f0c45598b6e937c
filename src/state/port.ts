import type { Failure } from "../core/failure.js";
import type { EventInput, Lease, RunEvent, RunStatus, TaskStatus, AgentOutcome, FileChange, GateOutcome, Decision, BreakpointContext, BreakpointResolution } from "../core/events.js";

/** One row of the event ledger: the event plus its global, strictly increasing sequence number. */
export interface StoredEvent {
  readonly seq: number;
  readonly event: RunEvent;
}

export interface RunRow {
  readonly id: string;
  readonly status: RunStatus;
  readonly pipeline: string;
  readonly pipelineFile: string;
  readonly workspace: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** Why it ended or paused. */
  readonly reason?: string;
  /** Process that last started it (to refuse a second `resume` while it lives). */
  readonly pid?: number;
  /** The process that drives (or last drove) the run, and when it last said it was alive. */
  readonly lease?: Lease;
  readonly heartbeatAt?: string;
}

export interface AttemptRow {
  readonly attempt: number;
  readonly status: "running" | "decided" | "interrupted";
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly prompt: string;
  /** The checkpoint of the workspace as the attempt found it. */
  readonly checkpoint?: string;
  /** Undone by `orc rollback`: its changes are no longer in the workspace. */
  readonly rolledBack?: boolean;
  readonly agent?: AgentOutcome;
  readonly changes?: { readonly files: readonly FileChange[]; readonly linesChanged: number; readonly checkpoint?: string };
  readonly gates: readonly GateOutcome[];
  readonly decision?: Decision;
  readonly reasons: readonly string[];
}

export interface TaskRow {
  readonly id: string;
  readonly status: TaskStatus;
  readonly maxAttempts: number;
  readonly reason?: string;
  readonly attempts: readonly AttemptRow[];
  /** The judges' confidence in the latest judged attempt (the lowest, with several judge gates); absent when unjudged. */
  readonly confidence?: number;
}

/** A breakpoint, open or resolved, as `orc breakpoints` and `orc status --json` print it. */
export interface BreakpointRow {
  readonly id: string;
  readonly run: string;
  readonly task: string;
  readonly attempt: number;
  readonly rule: string;
  readonly status: "open" | "resolved";
  readonly message: string;
  readonly openedAt: string;
  readonly context: BreakpointContext;
  readonly resolution?: BreakpointResolution;
  readonly note?: string;
  readonly resolvedAt?: string;
}

/** What `orc status --json` prints. */
export interface RunSnapshot {
  readonly run: RunRow;
  readonly tasks: readonly TaskRow[];
  readonly breakpoints: readonly BreakpointRow[];
}

/**
 * The single source of truth. `append` writes the event to the ledger and projects it onto the tables in one
 * transaction, so every state transition is atomic and the ledger can never disagree with the tables.
 */
export interface StateStore {
  append(event: EventInput): StoredEvent;
  /** The driving process is alive: refreshes the run's heartbeat while `lease` still holds it. */
  heartbeat(runId: string, lease: Lease): void;
  /**
   * Hands the run's lease from `seen` (the holder the caller read, or none) to `next` (or none), leaving its status
   * alone; false when someone else holds it by now (a compare-and-swap, as `run.started` takes it).
   */
  swapLease(runId: string, seen: Lease | undefined, next: Lease | undefined): boolean;
  getRun(id: string): RunRow | undefined;
  latestRun(): RunRow | undefined;
  listRuns(): readonly RunRow[];
  snapshot(id: string): RunSnapshot | undefined;
  /** One breakpoint by id (ids are unique across runs), or undefined. */
  breakpoint(id: string): BreakpointRow | undefined;
  /** Open breakpoints of every run, oldest first. */
  openBreakpoints(): readonly BreakpointRow[];
  /** The `spec` stored by `run.created`. */
  runSpec(id: string): unknown;
  /** Events of one run after `afterSeq` (exclusive), oldest first, at most `limit`. */
  events(runId: string, options?: { readonly afterSeq?: number; readonly limit?: number }): readonly StoredEvent[];
  close(): void;
  /**
   * Whether the database file is still the one the store opened. When it was deleted or replaced (an agent that ran
   * `rm -rf .orc` with the state directory inside its workspace), the store writes back everything its open
   * connection still holds, carries on in that copy, and answers a `state-lost` Failure from then on; undefined while
   * intact. One stat(2): cheap enough after every attempt. Optional: stores without a file need no check.
   */
  verifyIntact?(): Failure | undefined;
  /** What `orc stats` aggregates, across every run; optional so stores without SQL still satisfy the port. */
  stats?(): StatsRows;
  /** The LLM supervisor's memory in the same database; optional so stores without one still satisfy the port. */
  llmMemory?(): LlmMemory;
}

/** The rows `orc stats` aggregates (src/state/stats.ts): small columns, no payloads. */
export interface StatsRows {
  readonly runs: number;
  readonly tasks: readonly { readonly run: string; readonly task: string; readonly status: TaskStatus; readonly attempts: number }[];
  readonly breakpoints: readonly { readonly rule: string; readonly count: number }[];
  /** One per judge gate that reached a verdict, oldest run first. */
  readonly judged: readonly {
    readonly run: string;
    readonly runCreatedAt: string;
    readonly task: string;
    readonly attempt: number;
    readonly passed: boolean;
    readonly confidence: number;
    readonly verdict: string;
    /** The attempt's decision (null while undecided). */
    readonly decision: Decision | null;
    readonly rolledBack: boolean;
    /** How a human resolved the latest breakpoint on this attempt (null: none, or still open). */
    readonly resolution: BreakpointResolution | null;
  }[];
}

/** What the LLM supervisor keeps between runs: judge verdicts by input hash, and the running project summary. */
export interface LlmMemory {
  verdict(hash: string): string | undefined;
  saveVerdict(hash: string, payload: string): void;
  summary(): string;
  saveSummary(text: string): void;
}

/**
 * The run loop's check after each attempt: a Failure (`state-lost`) when the state database was deleted or replaced
 * under the run, undefined otherwise. On a Failure the run should stop starting work and end as interrupted; its
 * records, written back, let `orc resume` continue.
 */
export function stateLost(store: StateStore): Failure | undefined {
  return store.verifyIntact?.();
}

const EVENT_PAGE = 1_000;

/** Every event of one run, oldest first, read a page at a time (so a long run is never held in memory at once). */
export function* eachEvent(store: Pick<StateStore, "events">, runId: string): Generator<StoredEvent> {
  for (let after = 0; ; ) {
    const page = store.events(runId, { afterSeq: after, limit: EVENT_PAGE });
    for (const stored of page) {
      after = stored.seq;
      yield stored;
    }
    if (page.length < EVENT_PAGE) return;
  }
}
