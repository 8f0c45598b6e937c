import type { AgentPlugin } from "../agents/port.js";
import type { EventInput, FileChange, GateOutcome, RunEvent } from "../core/events.js";
import type { GateSpec } from "../core/pipeline.js";
import type { StateStore } from "../state/port.js";
import type { Notifier } from "../rules/breakpoints.js";
import type { Transport } from "../transports/port.js";
import { journalOf } from "./journal.js";

/** What changed in the workspace across one attempt, with the checkpoint taken after it (if any). */
export interface AttemptChanges {
  readonly files: readonly FileChange[];
  readonly linesChanged: number;
  readonly checkpoint?: string;
}

/** Checkpoints the workspace around an attempt and lists what the attempt changed. */
export interface ChangeTracker {
  /** Called before the agent starts; returns an opaque token for `after`. */
  before(): Promise<string>;
  /**
   * `label` names the checkpoint (`TASK/ATTEMPT`) so a later rollback can find it. `beforeCheckpoint` is called
   * before a checkpoint is taken (git may take a while), not when the answer comes at once.
   */
  after(before: string, label?: string, beforeCheckpoint?: () => void): Promise<AttemptChanges>;
  /** Something other than the agent ran in the workspace since `after` (a gate): the next `before` must look. */
  invalidate(): void;
  /** The unified diff of `paths` between two checkpoints ("" when it cannot be had): test-integrity rules read it. */
  patch?(before: string, after: string, paths: readonly string[]): Promise<string>;
  /** Releases what the tracker holds for the run (a watcher's subscription); called once, when the run ends. */
  close?(): Promise<void>;
}

export interface GateContext {
  readonly workspace: string;
  readonly transport: Transport;
  readonly env: Record<string, string>;
  readonly signal: AbortSignal;
  /** What the attempt did, for gates that weigh evidence (the LLM judge). */
  readonly evidence?: AttemptEvidence;
}

/** The evidence of one attempt as a judge gate sees it. */
export interface AttemptEvidence {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  /** The task's own prompt (without the retry wrapper, so it is the same text on every attempt). */
  readonly taskPrompt: string;
  /** What the agent says it did. */
  readonly claims: string;
  readonly files: readonly FileChange[];
  /** The unified diff of the attempt, computed on demand ("" when there is none). */
  readonly diff: () => Promise<string>;
  /** Outcomes of the gates that ran before this one in this attempt. */
  readonly gates: readonly GateOutcome[];
}

/** Everything the orchestrator talks to, injected so tests and future transports can swap any part. */
export interface RunDeps {
  readonly store: StateStore;
  readonly transport: Transport;
  readonly loadAgent: (kind: string) => Promise<AgentPlugin>;
  readonly runGate: (spec: GateSpec, ctx: GateContext) => Promise<GateOutcome>;
  readonly changes: ChangeTracker;
  /** Reporters listen here; called after the event is committed. */
  readonly onEvent: (event: RunEvent) => void;
  /** Base environment of every child process. */
  readonly env: Record<string, string>;
  readonly signal: AbortSignal;
  /** Directory for this run's prompt files. */
  readonly promptDir: string;
  /** The running summary of what earlier tasks did (`project.summary` in templates); "" when there is none. */
  readonly projectSummary?: () => string;
  /**
   * `llm.optimize_prompts`: the LLM rewrites a retry prompt within the prompt token budget. Resolves to the prompt to
   * send: the rewrite, or the original when the LLM cannot help (never an error that stops the attempt).
   */
  readonly rewritePrompt?: (prompt: string, ctx: { readonly runId: string; readonly taskId: string; readonly signal: AbortSignal }) => Promise<string>;
  /** Tells people a breakpoint opened (webhook, command); absent: nobody is notified. */
  readonly notify?: Notifier;
  /** Releases what the run holds and writes what it kept in memory; called once, when the run ends. */
  readonly close?: () => Promise<void>;
}

/** Appends to the store (one transaction, with any deferred events: run/journal.ts) and then tells the reporters. */
export function recorder(deps: Pick<RunDeps, "store" | "onEvent">): (event: EventInput) => void {
  const journal = journalOf(deps);
  return (event) => {
    journal.record(event);
  };
}
