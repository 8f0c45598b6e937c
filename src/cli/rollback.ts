import type { Failure } from "../core/failure.js";
import type { RunSnapshot, StateStore } from "../state/port.js";
import { attemptKey } from "../run/orphans.js";
import { LocalTransport } from "../transports/local.js";
import { checkpointStoreDir } from "../workspace/housekeeping.js";
import { startedAttempts, type StartedAttempt } from "./attempt-index.js";
import { withWritableStore, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { isDirectory } from "./fs.js";
import { fail as failWith, type Io } from "./io.js";
import { driverAlive, rollbackLease } from "./lease.js";
import { rollbackTarget, type RollbackChoice } from "./rollback-target.js";

/**
 * `orc rollback RUN [--task ID | --attempt N | --to CHECKPOINT]`: puts the workspace back byte for byte to a checkpoint
 * (contents, the executable bit, deletions, additions; ignored files and `.git` untouched) and, in one transaction,
 * marks every attempt that started from then on as rolled back (tasks side by side: and every attempt merged into the
 * workspace after the checkpoint's base was taken). Their tasks (and tasks skipped because of them) are
 * pending again and the run is paused: `orc resume RUN` runs them again from the restored files.
 */
export async function rollbackCommand(runId: string, options: GlobalOptions & RollbackChoice & { readonly json: boolean }, io: Io): Promise<number> {
  const fail = (failure: Failure): number => failWith(io, failure, options);
  return withWritableStore(io, options, async (store, settings) => {
    const snapshot = store.snapshot(runId);
    if (snapshot === undefined) return fail({ reason: "unknown-run", run: runId });
    const active = (): number => {
      const run = store.getRun(runId) ?? snapshot.run;
      return fail({ reason: "run-active", run: runId, pid: run.lease?.pid ?? run.pid ?? 0 });
    };
    if (driverAlive(snapshot.run)) return active();
    // The run's lease for the command's duration: an `orc resume` (or another rollback) started meanwhile refuses,
    // and one that took the run between our check and now makes us refuse instead (the same compare-and-swap).
    const lease = rollbackLease();
    if (!store.swapLease(runId, snapshot.run.lease, lease)) return active();
    try {
      return await rollBack({ store, snapshot, stateDir: settings.stateDir, choice: options, fail, io, json: options.json });
    } finally {
      store.swapLease(runId, lease, snapshot.run.lease);
    }
  });
}

interface RollBack {
  readonly store: StateStore;
  readonly snapshot: RunSnapshot;
  readonly stateDir: string;
  readonly choice: RollbackChoice;
  readonly fail: (failure: Failure) => number;
  readonly io: Io;
  readonly json: boolean;
}

/** The rollback itself, under the run's lease: restore the target, then record what it undid. */
async function rollBack({ store, snapshot, stateDir, choice, fail, io, json }: RollBack): Promise<number> {
  const runId = snapshot.run.id;
  const attempts = startedAttempts(store, runId);
  const rolled = rolledBackSet(snapshot);
  const target = rollbackTarget(attempts, (a) => rolled.has(key(a)), choice);
  if (!target.ok) return fail({ reason: "usage", message: target.failure });
  if (!isDirectory(snapshot.run.workspace)) return fail({ reason: "restore-failed", message: `the run's workspace ${snapshot.run.workspace} is not a directory` });

  const restored = await restore(stateDir, snapshot.run.workspace, target.value.checkpoint);
  if (restored !== undefined) return fail({ reason: "restore-failed", message: `could not restore ${snapshot.run.workspace}: ${restored}` });

  const { fromSeq, mergesFrom, keeps } = target.value;
  // With tasks side by side, attempts merged into the workspace that the target's task directory did not hold are
  // undone too (but not the attempt whose own result the target is).
  const kept = (a: StartedAttempt): boolean => keeps !== undefined && key(a) === key(keeps);
  const later = (a: StartedAttempt): boolean => !kept(a) && (a.seq >= fromSeq || (mergesFrom !== undefined && a.mergedAt !== undefined && a.mergedAt >= mergesFrom));
  const undone = attempts.filter((a) => later(a) && !rolled.has(key(a)));
  const tasks = tasksToRunAgain(snapshot, undone);
  const reason = tasks.length === 0 ? `rolled back to ${target.value.described}` : `rolled back to ${target.value.described}; \`orc resume ${runId}\` runs ${tasks.join(", ")} again`;
  const stored = store.append({
    type: "run.rolled_back",
    run: runId,
    checkpoint: target.value.checkpoint,
    fromSeq: target.value.fromSeq,
    target: target.value.described,
    attempts: undone.map((a) => ({ task: a.task, attempt: a.attempt })),
    tasks,
    reason,
  });
  io.stdout.write(json ? `${JSON.stringify(stored.event)}\n` : `run ${runId} ${reason} (checkpoint ${target.value.checkpoint.slice(0, 12)}, ${undone.length} attempt${undone.length === 1 ? "" : "s"} undone)\n`);
  return EXIT.ok;
}

function key(a: { readonly task: string; readonly attempt: number }): string {
  return attemptKey(a.task, a.attempt);
}

function rolledBackSet(snapshot: RunSnapshot): Set<string> {
  return new Set(snapshot.tasks.flatMap((t) => t.attempts.filter((a) => a.rolledBack === true).map((a) => key({ task: t.id, attempt: a.attempt }))));
}

/** The tasks whose attempts were undone, and those skipped (their needs may be back): pending again, in plan order. */
function tasksToRunAgain(snapshot: RunSnapshot, undone: readonly StartedAttempt[]): string[] {
  const touched = new Set(undone.map((a) => a.task));
  return snapshot.tasks.filter((t) => touched.has(t.id) || t.status === "skipped").map((t) => t.id);
}

/**
 * Restores the checkpoint with the run's checkpoint store (no change subscription: nothing says what changed since the
 * run, so the store scans), then lets it pack itself if due; the error message when git could not.
 */
async function restore(stateDir: string, dir: string, checkpoint: string): Promise<string | undefined> {
  const { ShadowGit } = await import("../workspace/shadow-git.js");
  try {
    const git = new ShadowGit({ storeDir: checkpointStoreDir(stateDir), workspace: dir, stateDir, transport: new LocalTransport() });
    await git.init();
    await git.restore(checkpoint);
    await git.maintain();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
