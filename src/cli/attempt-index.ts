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
}

/** Every attempt of a run in the order it started, from the run's ledger (bounded by one run's events). */
export function startedAttempts(store: StateStore, runId: string): StartedAttempt[] {
  const found: StartedAttempt[] = [];
  const after = new Map<string, string>();
  for (const { seq, event } of eachEvent(store, runId)) {
    if (event.type === "attempt.started") {
      found.push({ task: event.task, attempt: event.attempt, seq, ...(event.checkpoint === undefined ? {} : { checkpoint: event.checkpoint }) });
    } else if (event.type === "changes.detected" && event.checkpoint !== undefined) {
      after.set(attemptKey(event.task, event.attempt), event.checkpoint);
    }
  }
  return found.map((a) => {
    const checkpoint = after.get(attemptKey(a.task, a.attempt));
    return checkpoint === undefined || checkpoint === a.checkpoint ? a : { ...a, after: checkpoint };
  });
}
