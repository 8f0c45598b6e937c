/**
 * Tasks side by side, resumed: what the ledger says of each task's own directory and of the merge in flight. A crash
 * (kill -9) leaves task directories behind; a resume removes them all and makes each task's directory again, from the
 * base its attempts were made on and the files its next attempt starts from, so an interrupted attempt runs again
 * from the same files and its work merges as it would have.
 */
import type { RunEvent } from "../core/events.js";
import { eachEvent, type StateStore } from "../state/port.js";
import type { CheckpointId } from "../workspace/port.js";
import type { Head, IsolatedStart } from "./merge.js";

export interface IsolatedLedger {
  /** Per task: where its directory starts again (absent: the task never had one, or starts afresh). */
  readonly starts: ReadonlyMap<string, IsolatedStart>;
  /** Per task and attempt: the base the attempt's directory was made on (what its work is merged against). */
  readonly bases: ReadonlyMap<string, CheckpointId>;
  /** A merge that started and never finished: the run's workspace goes back to `before`. */
  readonly unfinishedMerge?: { readonly task: string; readonly before: CheckpointId };
}

/**
 * Where the merges not in a `task.isolated` event's base start: the position it records, or, in a ledger of an older
 * orc that recorded none, the event's own.
 */
export function mergesFromOf(event: Extract<RunEvent, { type: "task.isolated" }>, seq: number): number {
  return event.mergesFrom ?? seq;
}

export function baseKey(task: string, attempt: number): string {
  return `${task}\u0000${String(attempt)}`;
}

/** One pass over the run's ledger. */
export function readIsolatedLedger(store: Pick<StateStore, "events">, runId: string): IsolatedLedger {
  const current = new Map<string, { base: Head; from: CheckpointId; before?: CheckpointId; after?: CheckpointId }>();
  const bases = new Map<string, CheckpointId>();
  let merge: { task: string; attempt: number; before: CheckpointId } | undefined;
  for (const { seq, event } of eachEvent(store, runId)) {
    switch (event.type) {
      case "task.isolated":
        current.set(event.task, { base: { checkpoint: event.base, mergesFrom: mergesFromOf(event, seq) }, from: event.base });
        break;
      case "attempt.started": {
        const c = current.get(event.task);
        if (c === undefined || event.checkpoint === undefined) break;
        c.before = event.checkpoint;
        delete c.after;
        bases.set(baseKey(event.task, event.attempt), c.base.checkpoint);
        break;
      }
      case "changes.detected": {
        const c = current.get(event.task);
        if (c !== undefined && event.checkpoint !== undefined) c.after = event.checkpoint;
        break;
      }
      case "attempt.decided": {
        const c = current.get(event.task);
        if (c !== undefined) c.from = c.after ?? c.before ?? c.from;
        if (c !== undefined) delete c.before;
        break;
      }
      case "merge.started":
        merge = { task: event.task, attempt: event.attempt, before: event.before };
        break;
      case "merge.finished":
        merge = undefined;
        break;
      case "run.rolled_back":
        // The workspace went back: every task that runs again starts afresh from it.
        current.clear();
        merge = undefined;
        break;
      default:
        break;
    }
  }
  const starts = new Map<string, IsolatedStart>();
  // An attempt that started and was never decided runs again from the files it started from.
  for (const [task, c] of current) starts.set(task, { base: c.base, from: c.before ?? c.from });
  return { starts, bases, ...(merge === undefined ? {} : { unfinishedMerge: { task: merge.task, before: merge.before } }) };
}

/**
 * Attempts whose work was merged into the run's workspace (`merge.finished`, merged) and that were never decided:
 * orc stopped between the two. Their effect has happened; running them again would make it happen twice.
 */
export function mergedUndecided(store: Pick<StateStore, "events">, runId: string): Set<string> {
  const merged = new Set<string>();
  for (const { event } of eachEvent(store, runId)) {
    if (event.type === "merge.finished" && event.status === "merged") merged.add(baseKey(event.task, event.attempt));
    else if (event.type === "attempt.decided") merged.delete(baseKey(event.task, event.attempt));
    else if (event.type === "run.rolled_back") for (const a of event.attempts) merged.delete(baseKey(a.task, a.attempt));
  }
  return merged;
}
