import type { AgentPlugin } from "../agents/port.js";
import type { EventInput, RunEvent } from "../core/events.js";
import type { TaskSpec } from "../core/pipeline.js";
import type { AttemptEvidence, GateRunner } from "../quality/port.js";
import type { StateStore, StoredEvent } from "../state/port.js";
import type { Notifier } from "../rules/breakpoints.js";
import type { Transport } from "../transports/port.js";
import type { CheckpointId, TaskWorkspaces, Workspace } from "../workspace/port.js";

/** Everything the orchestrator talks to, injected through ports so tests and other transports can swap any part. */
export interface RunDeps {
  readonly store: StateStore;
  /**
   * Where a task's agent and gates run (its `transport:`, else the pipeline's, else orchestrator.yaml's), built on
   * first use and shared by the tasks with the same settings; closed with the run.
   */
  readonly placeFor: (task: TaskSpec) => Promise<Place>;
  readonly workspace: Workspace;
  /**
   * Tasks side by side (`concurrency` above 1): a directory of its own per running task, merged back through the
   * merge queue (run/merge.ts). Absent with one task at a time.
   */
  readonly taskWorkspaces?: TaskWorkspaces;
  /** Set in the deps of a task that works in its own directory: `workspace` is then that directory. */
  readonly isolation?: TaskIsolation;
  readonly loadAgent: (kind: string) => Promise<AgentPlugin>;
  readonly gates: GateRunner;
  /** Reporters listen here; called after the event is committed. */
  readonly onEvent: (event: RunEvent) => void;
  readonly signal: AbortSignal;
  /** Directory for this run's prompt files. */
  readonly promptDir: string;
  /** The run's directory agents may write their own files in (aider's chat history); orc writes nothing there. */
  readonly scratchDir: string;
  /** The running summary of what earlier tasks did (`project.summary` in templates); "" when there is none. */
  readonly projectSummary?: () => string;
  /**
   * `llm.optimize_prompts`: the LLM rewrites a retry prompt within the prompt token budget. Resolves to the prompt to
   * send: the rewrite, or the original when the LLM cannot help or its rewrite lost any of `keep` (never an error that
   * stops the attempt), and which it was.
   */
  readonly rewritePrompt?: (
    prompt: string,
    ctx: { readonly runId: string; readonly taskId: string; readonly signal: AbortSignal; readonly keep: readonly string[] },
  ) => Promise<{ readonly text: string; readonly used: boolean; readonly reason: string }>;
  /** Tells people a breakpoint opened (webhook, command); absent: nobody is notified. */
  readonly notify?: Notifier;
  /** Releases what the run holds and writes what it kept in memory; called once, when the run ends. */
  readonly close?: () => Promise<void>;
}

/** A transport, and the environment children start from in it (the host's, or what a sandbox lets in). */
export interface Place {
  readonly transport: Transport;
  readonly env: Readonly<Record<string, string>>;
}

export type RecordEvent = (event: EventInput) => StoredEvent;

/**
 * Writes each transition the moment it happens, in its own transaction (the ledger row and the tables it updates),
 * then tells the reporters. A crash at any point loses nothing that was recorded before it.
 */
export function recorder(deps: Pick<RunDeps, "store" | "onEvent">): RecordEvent {
  return (event) => {
    const stored = deps.store.append(event);
    deps.onEvent(stored.event);
    return stored;
  };
}

/** What a task's deps carry when it works in a directory of its own (run/merge.ts). */
export interface TaskIsolation {
  /** The checkpoint of the run's workspace the task's directory was made from: where a fresh retry starts. */
  base(): CheckpointId;
  /** Whether an attempt of the task has been merged (the task is then accepted). */
  merged(): boolean;
  /** Merges `accepted` (a checkpoint of the task's directory) into the run's workspace, through the queue. */
  merge(request: MergeRequest): Promise<MergeEnd>;
}

export interface MergeRequest {
  readonly attempt: number;
  readonly accepted: CheckpointId;
  /** What the merge gates' judge is shown; absent: the task's prompt alone is not at hand (an approval on resume). */
  readonly evidence?: AttemptEvidence;
}

export type MergeEnd =
  | { readonly kind: "merged" }
  /** Not merged: the reasons, for the attempt's decision and the next prompt. */
  | { readonly kind: "refused"; readonly reasons: readonly string[] }
  | { readonly kind: "interrupted" };
