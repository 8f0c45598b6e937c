import { err, ok, type Result } from "../core/result.js";
import type { StartedAttempt } from "./attempt-index.js";

/** Where `orc rollback` puts the workspace back to, and from which ledger position on attempts count as undone. */
export interface RollbackTarget {
  readonly checkpoint: string;
  readonly fromSeq: number;
  /**
   * Tasks side by side: attempts merged into the run's workspace from this ledger position on are undone too, though
   * they started earlier (the checkpoint, taken in a task's own directory, holds no merge made after its base).
   */
  readonly mergesFrom?: number;
  /**
   * `--to` the checkpoint after an attempt: that attempt stays, its own merge included (its work is what the
   * checkpoint holds), though with tasks side by side its merge comes after `mergesFrom`.
   */
  readonly keeps?: { readonly task: string; readonly attempt: number };
  /** In words, for the record and the output: `the start of task build`, `attempt 2 of task build`, … */
  readonly described: string;
}

export interface RollbackChoice {
  readonly task?: string;
  readonly attempt?: number;
  readonly to?: string;
}

const CHECKPOINT_PREFIX = /^[0-9a-f]{7,64}$/;

/**
 * The checkpoint a rollback restores: before attempt N of a task (`--task ID --attempt N`), before a task's first
 * attempt (`--task ID`), a checkpoint id or its prefix (`--to`), else the start of the run. Only attempts that are not
 * rolled back already count.
 */
export function rollbackTarget(attempts: readonly StartedAttempt[], rolledBack: (a: StartedAttempt) => boolean, choice: RollbackChoice): Result<RollbackTarget, string> {
  const live = attempts.filter((a) => !rolledBack(a));
  if (choice.attempt !== undefined && choice.task === undefined) return err("--attempt needs --task: which task's attempt?");
  if (choice.to !== undefined && (choice.task !== undefined || choice.attempt !== undefined)) return err("--to names a checkpoint on its own: drop --task and --attempt");
  if (choice.to !== undefined) return byCheckpoint(live, choice.to.toLowerCase());
  if (choice.task !== undefined) {
    const ofTask = live.filter((a) => a.task === choice.task);
    if (attempts.every((a) => a.task !== choice.task)) return err(`task ${JSON.stringify(choice.task)} has no attempts in this run`);
    const attempt = choice.attempt === undefined ? ofTask[0] : ofTask.find((a) => a.attempt === choice.attempt);
    if (attempt === undefined) {
      return err(choice.attempt === undefined ? `every attempt of task ${choice.task} is rolled back already` : `task ${choice.task} has no attempt ${String(choice.attempt)} that is not rolled back`);
    }
    const described = choice.attempt === undefined ? `the start of task ${choice.task}` : `attempt ${String(choice.attempt)} of task ${choice.task}`;
    return before(attempt, described);
  }
  const first = live[0];
  if (first === undefined) return err("the run has no attempts to roll back");
  return before(first, "the start of the run");
}

function before(attempt: StartedAttempt, described: string): Result<RollbackTarget, string> {
  if (attempt.checkpoint === undefined) return err(`attempt ${String(attempt.attempt)} of task ${attempt.task} has no checkpoint (it was recorded by an older orc)`);
  return ok({ checkpoint: attempt.checkpoint, fromSeq: attempt.seq, ...mergesFrom(attempt), described });
}

function mergesFrom(attempt: StartedAttempt): { mergesFrom?: number } {
  return attempt.mergesFrom === undefined ? {} : { mergesFrom: attempt.mergesFrom };
}

function byCheckpoint(live: readonly StartedAttempt[], to: string): Result<RollbackTarget, string> {
  if (!CHECKPOINT_PREFIX.test(to)) return err(`--to ${to}: a checkpoint id is 7 to 64 hex digits (see \`orc status --json\`)`);
  for (const a of live) {
    if (a.checkpoint?.startsWith(to) === true) return ok({ checkpoint: a.checkpoint, fromSeq: a.seq, ...mergesFrom(a), described: `checkpoint ${to} (before attempt ${String(a.attempt)} of task ${a.task})` });
    // After an attempt: that attempt stays, everything that started later is undone.
    if (a.after?.startsWith(to) === true) {
      const described = `checkpoint ${to} (after attempt ${String(a.attempt)} of task ${a.task})`;
      return ok({ checkpoint: a.after, fromSeq: a.seq + 1, ...mergesFrom(a), keeps: { task: a.task, attempt: a.attempt }, described });
    }
  }
  return err(`no checkpoint ${to} in this run (attempts rolled back already do not count)`);
}
