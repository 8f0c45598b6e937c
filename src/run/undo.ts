import type { StateStore } from "../state/port.js";
import type { CheckpointId } from "../workspace/port.js";
import type { RecordEvent, RunDeps } from "./deps.js";
import type { RunTarget } from "./target.js";

/**
 * Where the task started, if putting the whole workspace back there undoes only this task's work: undefined when
 * tasks run side by side, or when another task's attempt started after this task's first one (a task that ran while
 * this one waited at a breakpoint, say), whose work the restore would take away too.
 */
export function ownTaskStart(store: StateStore, target: { readonly runId: string; readonly concurrency: number }, taskId: string): CheckpointId | undefined {
  if (target.concurrency > 1) return undefined;
  const tasks = store.snapshot(target.runId)?.tasks ?? [];
  const first = tasks.find((t) => t.id === taskId)?.attempts.find((a) => a.rolledBack !== true && a.checkpoint !== undefined);
  if (first === undefined) return undefined;
  const othersSince = tasks.some((t) => t.id !== taskId && t.attempts.some((a) => a.rolledBack !== true && a.startedAt >= first.startedAt));
  return othersSince ? undefined : first.checkpoint;
}

/**
 * A task that failed (or that a human rejected) leaves the workspace as it was before the task, unless the pipeline
 * says `failed_work: keep`; its attempts stay in the checkpoint store for `orc diff`. Only where that undoes this
 * task's work alone (`ownTaskStart`).
 */
export async function undoFailedTask(deps: RunDeps, record: RecordEvent, target: RunTarget, taskId: string): Promise<void> {
  if (target.pipeline.keepFailedWork === true) return;
  const start = ownTaskStart(deps.store, { runId: target.runId, concurrency: target.plan.concurrency }, taskId);
  if (start === undefined || !(await restored(deps, start))) return;
  record({ type: "workspace.restored", run: target.runId, task: taskId, checkpoint: start, why: "task-failed" });
}

/**
 * Puts the workspace back to `checkpoint`; false when the checkpoint store no longer has it (it was deleted with a
 * state directory inside the workspace, say): the work stays as it is and the run goes on, which is all it can do.
 */
export async function restored(deps: Pick<RunDeps, "workspace">, checkpoint: CheckpointId): Promise<boolean> {
  try {
    await deps.workspace.restore(checkpoint);
    return true;
  } catch {
    return false;
  }
}
