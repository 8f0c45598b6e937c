import type { EventInput, RunEvent } from "../core/events.js";
import type { StateStore, StoredEvent } from "../state/port.js";

/**
 * How a run writes its events: each `record` is one transaction, then the reporters hear of it. `defer` holds an
 * event back so that it shares the transaction of the next `record`. With one task at a time, a task's whole life
 * costs one transaction, committed while its agent runs: the task's start, the attempt's start and the agent's pid
 * go in with the previous task's agent outcome, changes, decision and end (when it had no gates). Each transaction
 * still holds whole transitions in order, so the DB is consistent after a crash at any point.
 * Listeners (reporters, the project summary) hear of events when they are committed. Code that reads the store
 * through `committedReads` (the run's own deps do) commits what is held back first, so it never reads a state
 * older than what it has recorded.
 *
 * A deferred event waits at most until the current turn of the event loop ends: if nothing records before then (the
 * run waits for a process, a timer, the thread pool), it is committed on its own. So `orc status` never lags behind
 * the run by more than the synchronous work in hand, and a crash loses at most the events of that instant, which the
 * run, resumed, redoes (an attempt whose decision was lost is interrupted and runs again).
 */
export class Journal {
  private pending: EventInput[] = [];
  private due: NodeJS.Immediate | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly onEvent: (event: RunEvent) => void,
  ) {}

  /** Commits the deferred events and `event` in one transaction; returns `event` as stored. */
  record(event: EventInput): StoredEvent {
    const batch = this.take();
    batch.push(event);
    const last = this.commit(batch).at(-1);
    if (last === undefined) throw new Error("appendAll returned no event");
    return last;
  }

  /** Holds `event` back until the next `record`, or the end of this turn of the event loop. */
  defer(event: EventInput): void {
    this.pending.push(event);
    this.due ??= setImmediate(() => {
      this.due = undefined;
      try {
        this.flush();
      } catch {
        // The store refused the commit: the events stay held back, and the run's next record or flush commits them
        // or fails with the store's error, where the run can handle it (not here, outside any caller).
      }
    });
  }

  /** Commits the deferred events now, if there are any (the run calls this before it closes the store). */
  flush(): void {
    const batch = this.take();
    if (batch.length > 0) this.commit(batch);
  }

  private commit(batch: readonly EventInput[]): StoredEvent[] {
    const [only] = batch;
    let stored: StoredEvent[];
    try {
      stored = batch.length === 1 && only !== undefined ? [this.store.append(only)] : this.store.appendAll(batch);
    } catch (error) {
      // Nothing of the batch was stored (one transaction): hold it back again, ahead of anything deferred since.
      this.pending = [...batch, ...this.pending];
      throw error;
    }
    for (const s of stored) this.onEvent(s.event);
    return stored;
  }

  private take(): EventInput[] {
    clearImmediate(this.due);
    this.due = undefined;
    const batch = this.pending;
    this.pending = [];
    return batch;
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

/**
 * `store` as a run's code sees it: each read first runs `flush` (the run's journal), so no read misses an event the
 * run has recorded but holds back. Writes go straight to `store`: the journal's own commits are among them.
 */
export function committedReads(store: StateStore, flush: () => void): StateStore {
  const read =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      flush();
      return fn(...args);
    };
  return {
    append: (event) => store.append(event),
    appendAll: (events) => store.appendAll(events),
    getRun: read((id: string) => store.getRun(id)),
    latestRun: read(() => store.latestRun()),
    listRuns: read(() => store.listRuns()),
    snapshot: read((id: string) => store.snapshot(id)),
    breakpoint: read((id: string) => store.breakpoint(id)),
    openBreakpoints: read(() => store.openBreakpoints()),
    runSpec: read((id: string) => store.runSpec(id)),
    events: read((runId: string, options?: { readonly afterSeq?: number; readonly limit?: number }) => store.events(runId, options)),
    close: () => {
      store.close();
    },
    ...(store.llmMemory === undefined ? {} : { llmMemory: store.llmMemory.bind(store) }),
  };
}
