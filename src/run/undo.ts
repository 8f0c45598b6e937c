import type { StateStore, TaskRow } from "../state/port.js";
import type { CheckpointId } from "../workspace/port.js";
import type { RecordEvent, RunDeps } from "./deps.js";
import type { RunTarget } from "./target.js";

/** The workspace as the task's first attempt (not rolled back) found it. */
export function taskStartOf(row: TaskRow | undefined): CheckpointId | undefined {
  return row?.attempts.find((a) => a.rolledBack !== true && a.checkpoint !== undefined)?.checkpoint;
}

function taskStartIn(store: StateStore, runId: string, taskId: string): CheckpointId | undefined {
  return taskStartOf(store.snapshot(runId)?.tasks.find((t) => t.id === taskId));
}

/**
 * A task that failed (or that a human rejected) leaves the workspace as it was before the task, unless the pipeline
 * says `failed_work: keep`; its attempts stay in the checkpoint store for `orc diff`. Only when tasks run one at a time:
 * side by side, putting the whole directory back would undo the other tasks' work too.
 */
export async function undoFailedTask(deps: RunDeps, record: RecordEvent, target: RunTarget, taskId: string): Promise<void> {
  if (target.pipeline.keepFailedWork === true || target.plan.concurrency > 1) return;
  const start = taskStartIn(deps.store, target.runId, taskId);
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
