import type { SpawnedProcess } from "../core/events.js";
import { eachEvent, type StateStore } from "../state/port.js";

/**
 * The agent processes recorded for attempts that never finished (`TASK\u0000ATTEMPT` → process), read from this run's
 * ledger. Only called on resume, and only when some attempt was left running, so its cost is bounded by one run.
 */
export function spawnedProcesses(store: StateStore, runId: string, unfinished: ReadonlySet<string>): Map<string, SpawnedProcess> {
  const found = new Map<string, SpawnedProcess>();
  if (unfinished.size === 0) return found;
  for (const { event } of eachEvent(store, runId)) {
    if (event.type !== "agent.spawned") continue;
    const key = attemptKey(event.task, event.attempt);
    if (unfinished.has(key)) found.set(key, event.process);
  }
  return found;
}

export function attemptKey(task: string, attempt: number): string {
  return `${task}\u0000${String(attempt)}`;
}
