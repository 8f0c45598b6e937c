import type { SpawnedProcess } from "../core/events.js";
import type { StateStore } from "../state/port.js";

const PAGE = 1_000;

/**
 * The agent processes recorded for attempts that never finished (`TASK\u0000ATTEMPT` → process), read from this run's
 * ledger. Only called on resume, and only when some attempt was left running, so its cost is bounded by one run.
 */
export function spawnedProcesses(store: StateStore, runId: string, unfinished: ReadonlySet<string>): Map<string, SpawnedProcess> {
  const found = new Map<string, SpawnedProcess>();
  if (unfinished.size === 0) return found;
  for (let after = 0; ; ) {
    const page = store.events(runId, { afterSeq: after, limit: PAGE });
    for (const { seq, event } of page) {
      after = seq;
      if (event.type !== "agent.spawned") continue;
      const key = attemptKey(event.task, event.attempt);
      if (unfinished.has(key)) found.set(key, event.process);
    }
    if (page.length < PAGE) return found;
  }
}

export function attemptKey(task: string, attempt: number): string {
  return `${task}\u0000${String(attempt)}`;
}
