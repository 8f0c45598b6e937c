/**
 * The orchestrator's side of tasks side by side (run/merge.ts): what a run sets up before its first task (a resume
 * first clears the task directories a crash left and takes back a merge it interrupted), where each task's directory
 * starts, and the merge of work a human approved at a breakpoint.
 */
import type { TaskSpec } from "../core/pipeline.js";
import type { TaskRow } from "../state/port.js";
import { recorder, type RecordEvent, type RunDeps } from "./deps.js";
import { baseKey, readIsolatedLedger, type IsolatedLedger } from "./isolated-resume.js";
import { MergeQueue, type IsolatedStart } from "./merge.js";
import type { RunTarget } from "./target.js";
import { restored } from "./undo.js";

export interface Isolation {
  readonly queue: MergeQueue;
  readonly ledger: IsolatedLedger;
}

const NOTHING: IsolatedLedger = { starts: new Map(), bases: new Map() };

/**
 * A fresh run: an empty queue (`startedSeq`: where this process's `run.started` is in the ledger). A resumed one also
 * removes every task directory left behind (each is made again when its task starts) and, when a merge was cut short,
 * puts the run's workspace back as it was before that merge (its attempt runs again, so its work merges once).
 */
export async function prepareIsolation(deps: RunDeps, record: RecordEvent, target: RunTarget, startedSeq: number): Promise<Isolation> {
  const queue = new MergeQueue(startedSeq);
  if (!target.resumed) return { queue, ledger: NOTHING };
  const ledger = readIsolatedLedger(deps.store, target.runId);
  await deps.taskWorkspaces?.removeAll();
  const merge = ledger.unfinishedMerge;
  if (merge !== undefined && (await restored(deps, merge.before))) {
    record({ type: "workspace.restored", run: target.runId, task: merge.task, checkpoint: merge.before, why: "resumed" });
  }
  return { queue, ledger };
}

/** Where a task's directory starts: from the ledger when the task has attempts that still count, else afresh. */
export function startOf(ledger: IsolatedLedger, row: TaskRow | undefined): { start?: IsolatedStart } {
  const counts = row?.attempts.some((a) => a.rolledBack !== true) === true;
  const start = row === undefined ? undefined : ledger.starts.get(row.id);
  return counts && start !== undefined ? { start } : {};
}

/**
 * A human approved a paused attempt: its work (the files it left, against the base its directory was made on) is
 * merged like an accepted attempt's. Undefined when merged (or there was nothing to merge); the reasons when it does
 * not merge (the task then fails: only another attempt could redo the work on top of the workspace as it is now).
 */
export async function mergeApproved(
  deps: RunDeps,
  queue: MergeQueue,
  input: { readonly target: RunTarget; readonly task: string; readonly specs: readonly TaskSpec[] },
): Promise<readonly string[] | "interrupted" | undefined> {
  const { runId, pipeline } = input.target;
  const row = deps.store.snapshot(runId)?.tasks.find((t) => t.id === input.task);
  const paused = row?.attempts.filter((a) => a.rolledBack !== true && a.decision === "pause").at(-1);
  const spec = input.specs.find((t) => t.id === input.task);
  if (paused === undefined || spec === undefined) return undefined;
  const base = readIsolatedLedger(deps.store, runId).bases.get(baseKey(input.task, paused.attempt));
  const accepted = paused.changes?.checkpoint ?? paused.checkpoint;
  if (base === undefined || accepted === undefined) return undefined;
  const end = await queue.merge(deps, recorder(deps), { runId, pipeline, task: spec, attempt: paused.attempt, base, accepted });
  if (end.kind === "merged") return undefined;
  return end.kind === "interrupted" ? "interrupted" : [`its work does not merge: ${end.reasons.join("; ")}`];
}
