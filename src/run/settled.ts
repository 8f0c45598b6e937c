/**
 * Tasks whose end orc decided but did not get to record: it stopped (kill -9, a crash) between an attempt's decision
 * and `task.finished`, or, side by side, between the merge of the accepted work and the decision. The decision
 * stands: running the task again would do its work twice (accepted) or go on after it was failed (a `fail` rule).
 */
import type { TaskRow } from "../state/port.js";
import { eachEvent, type StateStore } from "../state/port.js";
import { attemptKey } from "./orphans.js";

export interface Settled {
  readonly task: string;
  readonly final: "accepted" | "failed";
  readonly reason: string;
}

/**
 * `merged`: per task, the attempt `closeUnfinishedAttempts` just decided as accepted (its work was merged). Only tasks
 * still running count: one a rollback made pending again had its work undone. The attempts a rollback undid are
 * taken from the ledger, which lists them all: the table marks of rollbacks recorded by earlier builds missed those
 * merged after the checkpoint.
 */
export function settledTasks(store: Pick<StateStore, "events">, runId: string, rows: readonly TaskRow[], merged: ReadonlyMap<string, number>): Settled[] {
  const candidates: (Settled & { readonly attempt: number })[] = [];
  for (const row of rows) {
    if (row.status !== "running") continue;
    const justMerged = merged.get(row.id);
    if (justMerged !== undefined) {
      candidates.push({ task: row.id, attempt: justMerged, final: "accepted", reason: `attempt ${String(justMerged)} was accepted before orc stopped` });
      continue;
    }
    const latest = row.attempts.filter((a) => a.rolledBack !== true).at(-1);
    if (latest?.status !== "decided" || (latest.decision !== "accept" && latest.decision !== "fail")) continue;
    const reason =
      latest.decision === "accept"
        ? `attempt ${String(latest.attempt)} was accepted before orc stopped`
        : `attempt ${String(latest.attempt)} failed the task before orc stopped${latest.reasons.length === 0 ? "" : `: ${latest.reasons.join("; ")}`}`;
    candidates.push({ task: row.id, attempt: latest.attempt, final: latest.decision === "accept" ? "accepted" : "failed", reason });
  }
  if (candidates.length === 0) return [];
  const undone = undoneByRollbacks(store, runId);
  return candidates.filter((c) => !undone.has(attemptKey(c.task, c.attempt))).map(({ task, final, reason }) => ({ task, final, reason }));
}

/** Every attempt a `run.rolled_back` event of the run lists as undone. */
function undoneByRollbacks(store: Pick<StateStore, "events">, runId: string): Set<string> {
  const undone = new Set<string>();
  for (const { event } of eachEvent(store, runId)) {
    if (event.type === "run.rolled_back") for (const a of event.attempts) undone.add(attemptKey(a.task, a.attempt));
  }
  return undone;
}
