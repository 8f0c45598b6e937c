import type { EventInput, RunEvent } from "../core/events.js";
import type { StateStore, StoredEvent } from "../state/port.js";

/**
 * How a run writes its events: each `record` is one transaction, then the reporters hear of it. `defer` holds an
 * event back so that it shares the transaction of the next `record`: an attempt's start is committed together with
 * its agent's pid, and a no-gate attempt's changes together with its decision. Each transaction still holds whole
 * transitions in order, so the DB is consistent after a crash at any point; a crash loses at most the deferred
 * events, which only ever precede an event that was not committed either (the run then resumes from before them).
 * Only events followed at once by a `record` in the same code path are deferred (run/attempt.ts, run/orchestrator.ts):
 * a deferred event must never wait through a long pause, or `orc status` would lag behind the run.
 */
export class Journal {
  private pending: EventInput[] = [];

  constructor(
    private readonly store: StateStore,
    private readonly onEvent: (event: RunEvent) => void,
  ) {}

  /** Commits the deferred events and `event` in one transaction; returns `event` as stored. */
  record(event: EventInput): StoredEvent {
    const batch = this.pending;
    this.pending = [];
    batch.push(event);
    const stored = batch.length === 1 ? [this.store.append(event)] : this.store.appendAll(batch);
    for (const s of stored) this.onEvent(s.event);
    const last = stored.at(-1);
    if (last === undefined) throw new Error("appendAll returned no event");
    return last;
  }

  /** Holds `event` back until the next `record`. */
  defer(event: EventInput): void {
    this.pending.push(event);
  }
}

const journals = new WeakMap<object, Journal>();

/** The one journal of a run's dependencies (all of a run's code records through it, so deferred events keep order). */
export function journalOf(deps: { readonly store: StateStore; readonly onEvent: (event: RunEvent) => void }): Journal {
  let journal = journals.get(deps);
  if (journal === undefined) {
    journal = new Journal(deps.store, deps.onEvent);
    journals.set(deps, journal);
  }
  return journal;
}
