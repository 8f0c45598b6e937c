/**
 * Everything that happens in a run is one RunEvent. The state store appends each event to the ledger and updates its
 * tables from it in the same transaction; reporters (ui/) only listen. `logs --json` and `apply --json` print these.
 */
export type RunStatus = "pending" | "running" | "paused" | "succeeded" | "failed" | "cancelled";
export type TaskStatus = "pending" | "running" | "accepted" | "failed" | "skipped" | "paused";
/** `pause`: a rule (or the judge) asked for a human; the task waits for `orc resolve` (see docs/rules.md). */
export type Decision = "accept" | "retry" | "fail" | "pause";
export type BreakpointResolution = "approve" | "reject" | "retry";
export type ProcessEnd = "exited" | "timeout" | "stalled" | "cancelled" | "spawn-error";

export interface AgentOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly end: ProcessEnd;
  readonly durationMs: number;
  /** The last bytes of the agent's combined output. */
  readonly outputTail: string;
  /** What the agent says it did (its final message); evidence, never a verdict. */
  readonly claims: string;
  readonly error?: string;
}

export interface FileChange {
  readonly path: string;
  readonly status: "added" | "modified" | "deleted";
  readonly added: number;
  readonly removed: number;
  /** True for a binary file (no line counts). */
  readonly binary: boolean;
}

export interface TestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
}

export interface GateOutcome {
  readonly gate: string;
  readonly kind: "command" | "judge";
  readonly passed: boolean;
  readonly exitCode: number | null;
  readonly end: ProcessEnd;
  readonly durationMs: number;
  readonly outputTail: string;
  readonly tests?: TestCounts;
  /** One line a human reads first: `exit 1 after 2.1s, 3 passed, 1 failed`. */
  readonly summary: string;
}

interface Base {
  readonly run: string;
  readonly time: string;
}

export type RunEvent =
  | (Base & {
      readonly type: "run.created";
      readonly pipeline: string;
      readonly pipelineFile: string;
      readonly workspace: string;
      readonly tasks: readonly { readonly id: string; readonly maxAttempts: number }[];
      /** The normalised pipeline and its plan, so resume and status need only the DB. */
      readonly spec: unknown;
    })
  | (Base & { readonly type: "run.started"; readonly resumed: boolean; readonly pid: number })
  | (Base & { readonly type: "task.started"; readonly task: string })
  | (Base & { readonly type: "attempt.started"; readonly task: string; readonly attempt: number; readonly prompt: string })
  | (Base & { readonly type: "agent.finished"; readonly task: string; readonly attempt: number; readonly result: AgentOutcome })
  | (Base & {
      readonly type: "changes.detected";
      readonly task: string;
      readonly attempt: number;
      readonly files: readonly FileChange[];
      readonly linesChanged: number;
      readonly checkpoint?: string;
    })
  | (Base & { readonly type: "gate.finished"; readonly task: string; readonly attempt: number; readonly result: GateOutcome })
  | (Base & {
      readonly type: "attempt.decided";
      readonly task: string;
      readonly attempt: number;
      readonly decision: Decision;
      readonly reasons: readonly string[];
    })
  | (Base & { readonly type: "attempt.interrupted"; readonly task: string; readonly attempt: number })
  | (Base & {
      readonly type: "task.finished";
      readonly task: string;
      readonly status: "accepted" | "failed" | "skipped";
      readonly reason: string;
    })
  | (Base & { readonly type: "run.interrupted"; readonly reason: string })
  | (Base & { readonly type: "run.finished"; readonly status: "succeeded" | "failed" | "cancelled"; readonly reason: string })
  /** A rule's condition held (every action, `warn` included); the decision that follows says what it did. */
  | (Base & {
      readonly type: "rule.fired";
      readonly task: string;
      readonly attempt: number;
      readonly rule: string;
      readonly source: string;
      readonly action: "pause" | "reject" | "fail" | "warn";
      readonly message: string;
    })
  /** The task stops for a human; `context` is what `orc breakpoints` shows (why, diff stats, gate evidence, verdict). */
  | (Base & {
      readonly type: "breakpoint.opened";
      readonly id: string;
      readonly task: string;
      /** The attempt that paused; for a `before_task` rule, the attempt about to start. */
      readonly attempt: number;
      readonly rule: string;
      readonly message: string;
      readonly context: BreakpointContext;
    })
  | (Base & {
      readonly type: "breakpoint.resolved";
      readonly id: string;
      readonly task: string;
      readonly resolution: BreakpointResolution;
      readonly note: string;
      /** The process that resolved it (a second `orc` while the run is paused). */
      readonly pid: number;
    })
  | (Base & { readonly type: "breakpoint.notified"; readonly id: string; readonly channel: "webhook" | "command"; readonly ok: boolean; readonly detail: string })
  /** Work that could run has run and a task waits at a breakpoint: `orc resolve`, then `orc resume`. */
  | (Base & { readonly type: "run.paused"; readonly reason: string; readonly breakpoints: readonly string[] });

export interface BreakpointContext {
  readonly hook: string;
  readonly source: string;
  readonly reasons: readonly string[];
  readonly files: number;
  readonly linesChanged: number;
  readonly changedFiles: readonly string[];
  readonly gates: readonly { readonly gate: string; readonly passed: boolean; readonly summary: string }[];
  readonly verdict: unknown;
}

export type RunEventType = RunEvent["type"];

/** Distributes Omit over the union so each member keeps its own fields. */
export type EventInput = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, "time"> : never) : never;
