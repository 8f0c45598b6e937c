import { LocalTransport } from "../transports/local.js";
import { checkpointStoreDir } from "../workspace/housekeeping.js";
import { startedAttempts } from "./attempt-index.js";
import { withReadonlyStore, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail, type Io } from "./io.js";

/**
 * `orc diff RUN TASK [--attempt N]`: what an attempt changed, as a unified diff between the checkpoints before and
 * after it in the shadow store (the attempt's last one by default). Works after a rollback or a failed task's undo
 * too: the store keeps every attempt.
 */
export async function diffCommand(runId: string, taskId: string, options: GlobalOptions & { readonly attempt?: number; readonly json: boolean }, io: Io): Promise<number> {
  return withReadonlyStore(io, options, async (store, settings) => {
    const snapshot = store?.snapshot(runId);
    if (store === undefined || snapshot === undefined) return fail(io, { reason: "unknown-run", run: runId }, options);
    const task = snapshot.tasks.find((t) => t.id === taskId);
    if (task === undefined) return fail(io, { reason: "usage", message: `run ${runId} has no task ${JSON.stringify(taskId)}` }, options);
    const row = options.attempt === undefined ? task.attempts.at(-1) : task.attempts.find((a) => a.attempt === options.attempt);
    if (row === undefined) {
      const which = options.attempt === undefined ? "no attempts" : `no attempt ${String(options.attempt)}`;
      return fail(io, { reason: "usage", message: `task ${taskId} of run ${runId} has ${which}` }, options);
    }
    const started = startedAttempts(store, runId).find((a) => a.task === taskId && a.attempt === row.attempt);
    const files = row.changes?.files ?? [];
    if (started?.checkpoint === undefined) {
      return fail(io, { reason: "usage", message: `attempt ${String(row.attempt)} of task ${taskId} has no checkpoint (recorded by an older orc)` }, options);
    }
    const after = started.after ?? started.checkpoint;
    let patch = "";
    try {
      if (files.length > 0) patch = await patchOf(settings.stateDir, snapshot.run.workspace, { from: started.checkpoint, to: after, paths: files.map((f) => f.path) });
    } catch (error) {
      return fail(io, { reason: "state", message: `the checkpoint store cannot show that diff: ${error instanceof Error ? error.message : String(error)}` }, options);
    }
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ run: runId, task: taskId, attempt: row.attempt, before: started.checkpoint, after, files, patch })}\n`);
    } else if (files.length === 0) {
      io.stderr.write(`attempt ${String(row.attempt)} of task ${taskId} changed no files\n`);
    } else {
      io.stdout.write(patch.endsWith("\n") || patch === "" ? patch : `${patch}\n`);
    }
    return EXIT.ok;
  });
}

async function patchOf(stateDir: string, dir: string, range: { readonly from: string; readonly to: string; readonly paths: readonly string[] }): Promise<string> {
  const { ShadowGit } = await import("../workspace/shadow-git.js");
  const git = new ShadowGit({ storeDir: checkpointStoreDir(stateDir), workspace: dir, stateDir, transport: new LocalTransport() });
  return git.patch(range.from, range.to, range.paths);
}
