import type { EventInput, RunEvent, RunStatus, TaskStatus, AgentOutcome, FileChange, GateOutcome, Decision } from "../core/events.js";

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
}

export interface AttemptRow {
  readonly attempt: number;
  readonly status: "running" | "decided" | "interrupted";
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly prompt: string;
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
}

/** What `orc status --json` prints. */
export interface RunSnapshot {
  readonly run: RunRow;
  readonly tasks: readonly TaskRow[];
  readonly breakpoints: readonly unknown[];
}

/**
 * The single source of truth. `append` writes the event to the ledger and projects it onto the tables in one
 * transaction, so every state transition is atomic and the ledger can never disagree with the tables.
 */
export interface StateStore {
  append(event: EventInput): StoredEvent;
  getRun(id: string): RunRow | undefined;
  latestRun(): RunRow | undefined;
  listRuns(): readonly RunRow[];
  snapshot(id: string): RunSnapshot | undefined;
  /** The `spec` stored by `run.created`. */
  runSpec(id: string): unknown;
  /** Events of one run after `afterSeq` (exclusive), oldest first, at most `limit`. */
  events(runId: string, options?: { readonly afterSeq?: number; readonly limit?: number }): readonly StoredEvent[];
  close(): void;
}
