/**
 * Everything that happens in a run is one RunEvent. The state store appends each event to the ledger and updates its
 * tables from it in the same transaction; reporters (ui/) only listen. `logs --json` and `apply --json` print these.
 */
import type { GitChanges } from "./git-changes.js";

export type RunStatus = "pending" | "running" | "paused" | "succeeded" | "failed" | "cancelled";
export type TaskStatus = "pending" | "running" | "accepted" | "failed" | "skipped" | "paused";
/** `pause`: a rule (or the judge) asked for a human; the task waits for `orc resolve` (see docs/rules.md). */
export type Decision = "accept" | "retry" | "fail" | "pause";
export type BreakpointResolution = "approve" | "reject" | "retry";
/**
 * How a process ended. `transport-lost`: the place it ran in went away under it (an SSH connection dropped, a
 * container died); the run loop treats that as the transport's fault, not the agent's or the gate's, and runs the
 * attempt again from its pre-attempt checkpoint (src/run/attempt.ts).
 */
export type ProcessEnd = "exited" | "timeout" | "stalled" | "cancelled" | "spawn-error" | "transport-lost";

/** A started process, named so it can be recognised later: its pid and, where known, its start time. */
export interface SpawnedProcess {
  readonly pid: number;
  readonly startTime?: string;
}

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
  // What a coding agent's structured output (claude-code stream-json, opencode/codex JSON) reported; absent for
  // agents that print plain text. See docs/agents.md for which stream events fill which field.
  /** The agent's own session, so a retry can continue the conversation. */
  readonly sessionId?: string;
  readonly model?: string;
  readonly costUsd?: number;
  readonly tokens?: AgentTokens;
  /** Model round trips the agent reported (claude-code `num_turns`). */
  readonly turns?: number;
  readonly toolCalls?: readonly AgentToolCall[];
  /** The agent's text messages in order (the last ones, each cut to a bounded length); `claims` is the final one. */
  readonly messages?: readonly string[];
  /** Tool uses the agent's permission system refused: a blocked write is never a success. */
  readonly permissionDenials?: readonly AgentToolCall[];
  /** The agent's own verdict on its run (claude-code `is_error`); true is a failure whatever the exit code. */
  readonly isError?: boolean;
  /** HTTP status of the model API error that ended the run (claude-code `api_error_status`). */
  readonly apiErrorStatus?: number;
  /** Set when the run ended on a rate, usage or overload limit: the run loop waits and continues the session. */
  readonly limit?: AgentLimit;
}

export interface AgentTokens {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

export interface AgentToolCall {
  readonly name: string;
  /** The file the tool read or wrote, when its input names one. */
  readonly filePath?: string;
  /** Bash and similar tools: the command line (evidence only, never executed by orc). */
  readonly command?: string;
  /** True when the tool's result came back as an error. */
  readonly failed?: boolean;
}

export interface AgentLimit {
  /** `rate`: 429; `usage`: a plan's usage cap; `overloaded`: 529 / overloaded_error. */
  readonly kind: "rate" | "usage" | "overloaded";
  /** When the limit lifts, if the agent said (ISO 8601). */
  readonly resetAt?: string;
  readonly message: string;
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
  /** Judge gates: the LLM's verdict on the attempt (evidence for the decision, shown by `orc status --json`). */
  readonly verdict?: JudgeVerdict;
  /** Judge gates: exactly what the judge was asked, so a verdict can be audited (absent when no prompt was built). */
  readonly judge?: JudgeAudit;
}

/** The judge's input as sent: the two prompt parts, the model, and the hash its cached verdict is filed under. */
export interface JudgeAudit {
  readonly system: string;
  readonly prompt: string;
  /** `kind:model` of the LLM settings (`llama-cpp:judge.gguf`). */
  readonly model: string;
  /** sha256 of model, prompt and schema: the key of the verdict cache. */
  readonly hash: string;
  /** True when a part was longer than the ledger keeps and was cut (the hash is of the full text). */
  readonly cut?: boolean;
}

/** An LLM judge's verdict, validated (schemas/verdict.schema.json). The judge fails closed: it never passes by default. */
export interface JudgeVerdict {
  readonly verdict: "pass" | "fail" | "needs_human";
  /** 0 to 1. */
  readonly confidence: number;
  readonly issues: readonly string[];
  /** Claims of the agent that the evidence contradicts. */
  readonly contradictedClaims: readonly string[];
  readonly followUp?: string;
  /** True when a human must look: the model said so, or no valid verdict could be had (malformed, timed out, no LLM). */
  readonly needsHuman: boolean;
  /** True when the LLM was unavailable and this verdict was reused for an identical input (by hash). */
  readonly cached?: boolean;
  /** Model calls made (a failed one is retried once). */
  readonly calls?: number;
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
  /**
   * An orc process took the run's lease and drives it. `takeover`: the lease of a dead process it replaced (a crash);
   * the store refuses the event unless the lease it finds is that one (or none), so two processes never drive one run.
   */
  | (Base & { readonly type: "run.started"; readonly resumed: boolean; readonly pid: number; readonly lease?: Lease; readonly takeover?: Lease })
  | (Base & { readonly type: "task.started"; readonly task: string })
  /** `checkpoint`: the workspace as the attempt found it (what `orc rollback` and a crashed attempt's rerun restore). */
  | (Base & { readonly type: "attempt.started"; readonly task: string; readonly attempt: number; readonly prompt: string; readonly checkpoint?: string })
  | (Base & { readonly type: "agent.finished"; readonly task: string; readonly attempt: number; readonly result: AgentOutcome })
  | (Base & {
      readonly type: "changes.detected";
      readonly task: string;
      readonly attempt: number;
      readonly files: readonly FileChange[];
      readonly linesChanged: number;
      readonly checkpoint?: string;
      /** Changes to the workspace's own `.git` (config, hooks, refs, commits), which no checkpoint records. */
      readonly git?: GitChanges;
    })
  | (Base & { readonly type: "gate.finished"; readonly task: string; readonly attempt: number; readonly result: GateOutcome })
  /**
   * One command gate run on the task's untouched workspace before its first attempt: what an attempt is compared
   * with (how many tests ran, which failed). Ledger only; run/baseline.ts reads it back when a run resumes.
   */
  | (Base & { readonly type: "baseline.finished"; readonly task: string; readonly result: GateOutcome })
  | (Base & {
      readonly type: "attempt.decided";
      readonly task: string;
      readonly attempt: number;
      readonly decision: Decision;
      readonly reasons: readonly string[];
    })
  | (Base & {
      readonly type: "attempt.interrupted";
      readonly task: string;
      readonly attempt: number;
      /** Set by `orc resume` when it stopped the attempt's agent, still running after orc itself was killed. */
      readonly orphanStopped?: number;
      /**
       * The transport lost the attempt's agent or a gate (`transport-lost`: an SSH connection dropped, a container
       * died), in words. The workspace is back where the attempt started (workspace.restored `transport-lost`) and the
       * task runs a new attempt, which, like any interrupted one, does not count against max_attempts (src/run/lost.ts).
       */
      readonly lost?: string;
    })
  /** The agent process started; recorded so a `resume` after `kill -9` of orc can stop it if it is still running. */
  | (Base & { readonly type: "agent.spawned"; readonly task: string; readonly attempt: number; readonly process: SpawnedProcess })
  /** The agent announced its session (recorded at once, so a retry after a crash or SIGINT can continue it). */
  | (Base & { readonly type: "agent.session"; readonly task: string; readonly attempt: number; readonly sessionId: string })
  /**
   * `optimize_prompts`: what became of the LLM's rewrite of a retry prompt. `used` false: the template's prompt was sent
   * instead, and `reason` says why (the LLM failed, or its rewrite dropped the task or the failing evidence).
   */
  | (Base & { readonly type: "prompt.rewritten"; readonly task: string; readonly attempt: number; readonly used: boolean; readonly reason: string })
  /**
   * The agent hit a rate, usage or overload limit: the task waits until `until`, then continues the session. Persisted
   * so that `orc resume` keeps waiting instead of hammering the API.
   */
  | (Base & {
      readonly type: "agent.waiting";
      readonly task: string;
      readonly attempt: number;
      readonly until: string;
      readonly limit: AgentLimit;
      readonly sessionId?: string;
    })
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
  /**
   * The workspace was put back to `checkpoint`: a failed or rejected task's work undone (`task-failed`), a retry with a
   * fresh agent session started from the task's start (`fresh-retry`), a crashed attempt's partial work undone before
   * it runs again (`resumed`), the work of an attempt whose transport went away undone before it runs again
   * (`transport-lost`).
   */
  | (Base & {
      readonly type: "workspace.restored";
      readonly task: string;
      readonly checkpoint: string;
      readonly why: "task-failed" | "fresh-retry" | "resumed" | "transport-lost";
    })
  /**
   * `orc rollback`: the workspace is back at `checkpoint`; every attempt started at or after ledger position `fromSeq`
   * is marked rolled back, the `tasks` they belonged to (and tasks skipped because of them) are pending again, and the
   * run waits for `orc resume`.
   */
  | (Base & {
      readonly type: "run.rolled_back";
      readonly checkpoint: string;
      readonly fromSeq: number;
      readonly target: string;
      readonly attempts: readonly { readonly task: string; readonly attempt: number }[];
      readonly tasks: readonly string[];
      readonly reason: string;
    })
  /**
   * Tasks side by side: `task` works in a directory of its own, `dir`, made from `base` (a checkpoint of the run's
   * workspace as its needs left it). Recorded again when the directory is made anew (a merge sent the task back, a
   * resume). `mergesFrom`: every merge whose `merge.started` is at or after this ledger position is not in `base`
   * (absent in ledgers of an older orc, which took this event's own position).
   */
  | (Base & { readonly type: "task.isolated"; readonly task: string; readonly dir: string; readonly base: string; readonly mergesFrom?: number })
  /**
   * The merge queue starts to merge `task`'s accepted attempt into the run's workspace: the workspace was at `before`
   * and is about to become `checkpoint`. A resume that finds no `merge.finished` after it puts the workspace back at
   * `before`.
   */
  | (Base & {
      readonly type: "merge.started";
      readonly task: string;
      readonly attempt: number;
      readonly before: string;
      readonly checkpoint: string;
    })
  /**
   * The merge's end: `merged` (the run's workspace is at `checkpoint`); `conflict` (the task and work merged since it
   * started changed the same lines of `paths`); `gate-failed` (a merge gate failed on the merged result, which was
   * taken out again). After either of the last two the run's workspace is at `checkpoint`, as before the merge.
   */
  | (Base & {
      readonly type: "merge.finished";
      readonly task: string;
      readonly attempt: number;
      readonly status: "merged" | "conflict" | "gate-failed";
      readonly checkpoint: string;
      readonly paths: readonly string[];
      readonly gates: readonly GateOutcome[];
    })
  /** Work that could run has run and a task waits at a breakpoint: `orc resolve`, then `orc resume`. */
  | (Base & { readonly type: "run.paused"; readonly reason: string; readonly breakpoints: readonly string[] });

/** Who drives a run: a process, told apart from a later one with the same pid by its start time, on a host. */
export interface Lease {
  readonly pid: number;
  /** Set by a command that holds a run only for its own duration (`orc rollback`), not as its driver. */
  readonly command?: "rollback";
  /** /proc start time (clock ticks since boot) where the platform has it. */
  readonly startTime?: string;
  readonly host: string;
}

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
