import { mergesFromOf } from "../run/isolated-resume.js";
import { attemptKey } from "../run/orphans.js";
import { eachEvent, type StateStore } from "../state/port.js";

/** One attempt as the ledger recorded its start: where it started (seq) and the checkpoint it started from. */
export interface StartedAttempt {
  readonly task: string;
  readonly attempt: number;
  readonly seq: number;
  readonly checkpoint?: string;
  /** The checkpoint after it, when it changed files. */
  readonly after?: string;
  /**
   * Tasks side by side (src/run/merge.ts): merges whose `merge.started` is at or after this ledger position are not in
   * the base of the attempt's own directory, so not in its checkpoints (its `task.isolated` says; an older orc's
   * ledger: that event's own position).
   */
  readonly mergesFrom?: number;
  /** Tasks side by side: where its work was merged into the run's workspace (the seq of its `merge.started`). */
  readonly mergedAt?: number;
}

/** Every attempt of a run in the order it started, from the run's ledger (bounded by one run's events). */
export function startedAttempts(store: StateStore, runId: string): StartedAttempt[] {
  const found: StartedAttempt[] = [];
  const after = new Map<string, string>();
  const isolated = new Map<string, number>();
  const started = new Map<string, number>();
  const merged = new Map<string, number>();
  for (const { seq, event } of eachEvent(store, runId)) {
    if (event.type === "attempt.started") {
      const mergesFrom = isolated.get(event.task);
      found.push({ task: event.task, attempt: event.attempt, seq, ...(event.checkpoint === undefined ? {} : { checkpoint: event.checkpoint }), ...(mergesFrom === undefined ? {} : { mergesFrom }) });
    } else if (event.type === "changes.detected" && event.checkpoint !== undefined) {
      after.set(attemptKey(event.task, event.attempt), event.checkpoint);
    } else if (event.type === "task.isolated") {
      isolated.set(event.task, mergesFromOf(event, seq));
    } else if (event.type === "merge.started") {
      started.set(attemptKey(event.task, event.attempt), seq);
    } else if (event.type === "merge.finished" && event.status === "merged") {
      const at = started.get(attemptKey(event.task, event.attempt));
      if (at !== undefined) merged.set(attemptKey(event.task, event.attempt), at);
    }
  }
  return found.map((a) => {
    const checkpoint = after.get(attemptKey(a.task, a.attempt));
    const mergedAt = merged.get(attemptKey(a.task, a.attempt));
    const withMerge = mergedAt === undefined ? a : { ...a, mergedAt };
    return checkpoint === undefined || checkpoint === a.checkpoint ? withMerge : { ...withMerge, after: checkpoint };
  });
}
