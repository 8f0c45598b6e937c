import { join } from "node:path";
import type { Transport } from "../transports/port.js";
import { chooseChangeSource, type ChangeSource } from "./change-sources.js";
import { checkpointStoreDir, directorySize } from "./housekeeping.js";
import type { AttemptLabel, ChangeSet, CheckpointId, Workspace } from "./port.js";
import { describeGitChanges } from "../core/git-changes.js";
import { gitChangesAround } from "./git-guard.js";
import { CheckpointFiles } from "./restore-paths.js";
import { ShadowGit } from "./shadow-git.js";

export interface LocalWorkspaceOptions {
  /** The directory agents and gates work in. */
  readonly dir: string;
  /** orc's state directory: the shadow store lives in it, and it is never part of a checkpoint. */
  readonly stateDir: string;
  readonly runId: string;
  /** Runs git (the one process supervisor's contract). */
  readonly transport: Transport;
  /**
   * True when one attempt at a time works in the directory: a small workspace then tells "nothing changed" from an
   * mtime snapshot, and the store's housekeeping runs before an attempt rather than when the run ends.
   */
  readonly exclusive: boolean;
  /** Files from which checkpoints follow the live subscription's paths (default 5,000); see the class comment. */
  readonly liveFrom?: number;
  /** Where the mtime snapshot of a small workspace is kept; default `<stateDir>/runs/<run>/watch.snapshot`. */
  readonly snapshotFile?: string;
  /** False for a task's own directory: the store it shares is packed by the run's workspace, never by a task's. */
  readonly housekeeping?: boolean;
}

const DEFAULT_LIVE_FROM = 5000;

/**
 * A directory on this machine, checkpointed in a shadow git store under the state directory (the user's `.git` is
 * never written: src/workspace/shadow-git.ts). Each checkpoint makes git look only where files changed:
 *
 * - The first checkpoint has git record the whole workspace, starting from the user's own index and objects when
 *   the workspace is a git repository (src/workspace/borrow.ts), so it costs about one `git status`.
 * - A workspace of `liveFrom` files or more then starts a live subscription to its changes (orc's own inotify
 *   watches, src/watch/inotify-watcher.ts, or @parcel/watcher, src/watch/live-watcher.ts, where those cannot start),
 *   in the background while the first attempt runs, and keeps it until `close()`:
 *   changes made between attempts, by gates or by the user, are reported like those made during one. The first
 *   recording once it is live records everything again (what changed before it went unreported); after that, a
 *   checkpoint waits for the subscription's sync point (under 1 ms with orc's own watches; with parcel's, up to
 *   50 ms right after other changes) and has git update just the reported paths, or is the last checkpoint again, with no git process, when
 *   none were reported. When the subscription cannot vouch for its list (a burst that may have lost events, an
 *   error, directories it does not watch) or cannot start (no inotify, too few watches), git records the whole
 *   workspace, as it does after a failed checkpoint. It does not watch `.git` directories: a commit made inside a
 *   nested repository without changing any of its files is recorded (as that repository's gitlink) by the next
 *   whole recording only.
 * - A smaller workspace with one attempt at a time tells "nothing changed" from an mtime snapshot, without a sync
 *   point (so a no-op attempt costs no git process nor a wait; its blind spots are in src/watch/snapshot-watcher.ts),
 *   and when something did change, git records the whole workspace (milliseconds at that size). Attempts side by
 *   side in a small workspace are recorded by git each time.
 *
 * The store is packed between attempts when git's own gc would (`ShadowGit.maintain`); `storeSize()` tells its size.
 */
export class LocalWorkspace implements Workspace {
  readonly dir: string;
  private last: CheckpointId | undefined;
  private source: ChangeSource | undefined;
  /** Set when a recording failed after the source handed over its paths: the next one records everything. */
  private recordAll = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Single files in and out of a checkpoint (held-out gates): src/workspace/restore-paths.ts. */
  private readonly files: CheckpointFiles;
  /** The workspace's own `.git`, which no checkpoint records, observed around each attempt. */
  private readonly gitGuard: ReturnType<typeof gitChangesAround>;

  private constructor(
    private readonly git: ShadowGit,
    private readonly options: LocalWorkspaceOptions,
  ) {
    this.dir = git.workspace;
    this.files = new CheckpointFiles({ storeDir: git.storeDir, workspace: git.workspace, transport: options.transport });
    this.gitGuard = gitChangesAround(git.workspace, options.transport);
  }

  static async open(options: LocalWorkspaceOptions): Promise<LocalWorkspace> {
    const git = new ShadowGit({ storeDir: checkpointStoreDir(options.stateDir), workspace: options.dir, stateDir: options.stateDir, transport: options.transport });
    await git.init();
    return new LocalWorkspace(git, options);
  }

  /** A workspace over a store that is already there (a task's own directory and index: src/workspace/task-dirs.ts). */
  static over(git: ShadowGit, options: LocalWorkspaceOptions): LocalWorkspace {
    return new LocalWorkspace(git, options);
  }

  /** The run's shadow store, for the task directories made from its checkpoints and merged back into it. */
  get store(): ShadowGit {
    return this.git;
  }

  async checkpointBefore(): Promise<CheckpointId> {
    // Between attempts (one at a time), so a gc never competes with an agent for the disk.
    if (this.options.exclusive && this.options.housekeeping !== false) await this.git.maintain();
    // Every attempt, even one whose checkpoint is reused: a human's commit between attempts is not the agent's.
    await this.gitGuard.before();
    return this.serial(() => this.checkpoint());
  }

  async changesSince(before: CheckpointId, label: AttemptLabel): Promise<ChangeSet> {
    // Always: the change sources ignore `.git`, so an attempt that only touched it looks like "nothing changed".
    const git = await this.gitGuard.after();
    // Only when the attempt changed something in `.git`: the usual change set stays as it was.
    const withGit = (set: ChangeSet): ChangeSet => (git === undefined || (describeGitChanges(git) === "" && git.unobserved === undefined) ? set : { ...set, git });
    const after = await this.serial(() => this.checkpoint());
    if (after === before) return withGit({ files: [], linesChanged: 0, checkpoint: before });
    await this.git.saveRef(`runs/${this.options.runId}/${label.task}/${String(label.attempt)}`, after, before);
    const files = await this.git.diff(before, after);
    return withGit({ files, linesChanged: files.reduce((n, f) => n + f.added + f.removed, 0), checkpoint: after });
  }

  async patch(from: CheckpointId, to: CheckpointId, paths: readonly string[]): Promise<string> {
    if (from === to || paths.length === 0) return "";
    try {
      return await this.git.patch(from, to, paths);
    } catch {
      return ""; // evidence only: a diff too large to keep must not stop the attempt
    }
  }

  async restore(checkpoint: CheckpointId): Promise<void> {
    await this.serial(async () => {
      await this.recording(async (changed) => {
        await this.git.restore(checkpoint, changed);
        return checkpoint;
      });
    });
  }

  pathsAt(checkpoint: CheckpointId): Promise<string[]> {
    return this.files.paths(checkpoint);
  }

  readAt(checkpoint: CheckpointId, path: string): Promise<string | undefined> {
    return this.files.read(checkpoint, path);
  }

  async restorePaths(checkpoint: CheckpointId, paths: readonly string[]): Promise<void> {
    // orc itself changed files behind the change source's back: the next checkpoint records everything.
    await this.serial(async () => {
      this.recordAll = true;
      await this.files.restore(checkpoint, paths);
    });
  }

  async removePaths(paths: readonly string[]): Promise<void> {
    await this.serial(async () => {
      this.recordAll = true;
      await this.files.remove(paths);
    });
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      await this.source?.close();
      this.source = undefined;
    });
    if (!this.options.exclusive && this.options.housekeeping !== false) await this.git.maintain();
  }

  /** Bytes the checkpoint store takes on disk (objects borrowed from the user's repository not counted). */
  storeSize(): Promise<number> {
    return directorySize(this.git.storeDir);
  }

  private async checkpoint(): Promise<CheckpointId> {
    if (this.source === undefined) return this.first();
    return this.recording((changed) => {
      // Nothing changed since the last recording: the same checkpoint, and no git process.
      if (changed?.length === 0 && this.last !== undefined) return Promise.resolve(this.last);
      return this.git.snapshot(changed);
    });
  }

  /** Runs `record` with the paths changed since the last recording, then tells the source it happened. */
  private async recording(record: (changed: readonly string[] | undefined) => Promise<CheckpointId>): Promise<CheckpointId> {
    const changed = this.source === undefined || this.recordAll ? undefined : await this.source.changes();
    try {
      this.last = await record(changed);
    } catch (error) {
      // The source has handed over (and forgotten) what changed: only a whole recording is sure to include it.
      this.recordAll = true;
      throw error;
    }
    this.recordAll = false;
    if (changed?.length !== 0) await this.source?.recorded();
    return this.last;
  }

  /** The first checkpoint: git records everything, then the workspace's size chooses how later ones learn what changed. */
  private async first(): Promise<CheckpointId> {
    const { dir, stateDir, runId } = this.options;
    this.last = await this.git.snapshot();
    this.source = chooseChangeSource({
      files: await this.git.files(),
      liveFrom: this.options.liveFrom ?? DEFAULT_LIVE_FROM,
      exclusive: this.options.exclusive,
      workspace: dir,
      snapshotFile: this.options.snapshotFile ?? join(stateDir, "runs", runId, "watch.snapshot"),
      // Each workspace of a run (a task's own directory too) has its own: closing one removes its directory.
      syncDir: this.options.snapshotFile === undefined ? join(stateDir, "runs", runId, "watch.sync") : `${this.options.snapshotFile}.sync`,
      ignore: [stateDir],
    });
    await this.source.recorded();
    return this.last;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op, op);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
