import type { AgentPlugin } from "../agents/port.js";
import type { EventInput, FileChange, GateOutcome, RunEvent } from "../core/events.js";
import type { GateSpec } from "../core/pipeline.js";
import type { StateStore } from "../state/port.js";
import type { Transport } from "../transports/port.js";

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
  /** `label` names the checkpoint (`TASK/ATTEMPT`) so a later rollback can find it. */
  after(before: string, label?: string): Promise<AttemptChanges>;
  /** Something other than the agent ran in the workspace since `after` (a gate): the next `before` must look. */
  invalidate(): void;
}

export interface GateContext {
  readonly workspace: string;
  readonly transport: Transport;
  readonly env: Record<string, string>;
  readonly signal: AbortSignal;
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
}

/** Appends to the store (one transaction) and then tells the reporters. */
export function recorder(deps: Pick<RunDeps, "store" | "onEvent">): (event: EventInput) => void {
  return (event) => {
    const stored = deps.store.append(event);
    deps.onEvent(stored.event);
  };
}
