/**
 * The workspace port: where an attempt's files live, and how they are checkpointed, compared and restored. The run
 * loop calls it around every attempt and knows nothing of git, watchers or their timing; `cli/` only constructs it.
 * Implementations: a local directory with a shadow git store (src/workspace/local.ts). The isolation and
 * parallel-task work adds more behind the same shape (a sandbox bind, a container mount, a remote directory over SSH,
 * a git worktree).
 */
import type { FileChange } from "../core/events.js";
import type { GitChanges } from "../core/git-changes.js";

export type { GitChanges, HookChange, RefChange } from "../core/git-changes.js";

/** An opaque checkpoint id the workspace that made it can restore (a tree id in the shadow git store). */
export type CheckpointId = string;

/** What one attempt changed, with the checkpoint of the workspace after it. */
export interface ChangeSet {
  readonly files: readonly FileChange[];
  readonly linesChanged: number;
  /** Equal to the checkpoint before the attempt when nothing changed. */
  readonly checkpoint: CheckpointId;
  /**
   * What the attempt changed in the workspace's own git repository (config, hooks, info files, refs, commits), which
   * no checkpoint records: `.git` is never part of one. Absent when the workspace is not a git repository (nor became
   * one) or its implementation does not observe git; `gitChangesAround` (src/workspace/git-guard.ts) computes it.
   */
  readonly git?: GitChanges;
}

/** Names the checkpoint an attempt leaves behind, so a later rollback or diff can find it. */
export interface AttemptLabel {
  readonly task: string;
  readonly attempt: number;
}

export interface Workspace {
  /** The directory the agent and the gates work in. */
  readonly dir: string;
  /** Before an attempt: a checkpoint of the workspace as the attempt finds it. */
  checkpointBefore(): Promise<CheckpointId>;
  /** After an attempt: what changed since `before`, and a checkpoint of the result kept under `label`. */
  changesSince(before: CheckpointId, label: AttemptLabel): Promise<ChangeSet>;
  /** The unified diff of `paths` between two checkpoints; "" when there is none or it cannot be had (evidence only). */
  patch(from: CheckpointId, to: CheckpointId, paths: readonly string[]): Promise<string>;
  /** Makes the workspace's files match `checkpoint`: edits reverted, deletions back, files created since removed. */
  restore(checkpoint: CheckpointId): Promise<void>;
  /** Every file path `checkpoint` holds (`/`-separated, relative to `dir`): what held-out globs are matched against. */
  pathsAt(checkpoint: CheckpointId): Promise<string[]>;
  /** The text of `path` in `checkpoint`; undefined when it holds no such file. */
  readAt(checkpoint: CheckpointId, path: string): Promise<string | undefined>;
  /**
   * Puts `paths` back as they were in `checkpoint` and leaves every other file alone: a path it held is rewritten, one
   * it did not hold is removed. Held-out gates: protected and hidden files are the originals when the gates run.
   */
  restorePaths(checkpoint: CheckpointId, paths: readonly string[]): Promise<void>;
  /** Removes `paths` from the workspace (hidden files, while the agent works); a path already absent is no error. */
  removePaths(paths: readonly string[]): Promise<void>;
  /** Releases what the workspace holds for the run; called once, when the run ends. */
  close(): Promise<void>;
}

/**
 * Tasks side by side (`concurrency` above 1): each running task works in a directory of its own, made from a
 * checkpoint of the run's workspace, and its accepted work is merged back (src/workspace/task-dirs.ts; the merge
 * queue is run/merge.ts). Absent with one task at a time: tasks then work in the run's workspace itself.
 */
export interface TaskWorkspaces {
  /** A directory of `task`'s own holding `from` (a checkpoint of the run's workspace); an earlier one is replaced. */
  open(task: string, from: CheckpointId): Promise<Workspace>;
  /**
   * The three-way merge of `theirs` (a task's work) and `ours` (the run's workspace now), both made from `base`: the
   * merged checkpoint, or the paths where both changed the same lines. Touches no directory.
   */
  merge(base: CheckpointId, ours: CheckpointId, theirs: CheckpointId): Promise<{ readonly checkpoint: CheckpointId } | { readonly conflicts: readonly string[] }>;
  /** The directory `task` works in (whether it exists or not). */
  dirOf(task: string): string;
  /** Removes `task`'s directory and what orc kept for it; nothing when there is none. */
  remove(task: string): Promise<void>;
  /** Removes every task directory of the run (its end, or a resume that starts them again). */
  removeAll(): Promise<void>;
}
