import { join } from "node:path";
import type { Transport } from "../transports/port.js";
import { ChangeWatcher } from "../watch/snapshot-watcher.js";
import type { AttemptLabel, ChangeSet, CheckpointId, Workspace } from "./port.js";
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
   * True when one attempt at a time works in the directory, so a change watcher can tell that an attempt changed
   * nothing and spare the git checkpoint. Attempts side by side are always checkpointed by git.
   */
  readonly exclusive: boolean;
}

/**
 * A directory on this machine, checkpointed in a shadow git store under the state directory (the user's `.git` is
 * never written). With one attempt at a time, a change watcher (a snapshot of mtimes) is marked at each checkpoint, so
 * an attempt that changed nothing costs no git process; its documented blind spots (a chmod alone, a rewrite within
 * one clock tick of the mark) are in src/watch/snapshot-watcher.ts.
 */
export class LocalWorkspace implements Workspace {
  readonly dir: string;
  private last: CheckpointId | undefined;
  private readonly files: CheckpointFiles;

  private constructor(
    private readonly git: ShadowGit,
    private readonly watcher: ChangeWatcher | undefined,
    private readonly refPrefix: string,
    transport: Transport,
  ) {
    this.dir = git.workspace;
    this.files = new CheckpointFiles({ storeDir: git.storeDir, workspace: git.workspace, transport });
  }

  static async open(options: LocalWorkspaceOptions): Promise<LocalWorkspace> {
    const git = new ShadowGit({ storeDir: join(options.stateDir, "checkpoints.git"), workspace: options.dir, stateDir: options.stateDir, transport: options.transport });
    await git.init();
    const watcher = options.exclusive
      ? new ChangeWatcher({ workspace: options.dir, snapshotFile: join(options.stateDir, "runs", options.runId, "watch.snapshot"), ignore: [options.stateDir] })
      : undefined;
    return new LocalWorkspace(git, watcher, `runs/${options.runId}`, options.transport);
  }

  async checkpointBefore(): Promise<CheckpointId> {
    if (this.last !== undefined && !(await this.changedSinceLast())) return this.last;
    return this.checkpoint();
  }

  async changesSince(before: CheckpointId, label: AttemptLabel): Promise<ChangeSet> {
    if (this.last === before && !(await this.changedSinceLast())) return { files: [], linesChanged: 0, checkpoint: before };
    const after = await this.checkpoint();
    if (after === before) return { files: [], linesChanged: 0, checkpoint: before };
    await this.git.saveRef(`${this.refPrefix}/${label.task}/${String(label.attempt)}`, after);
    const files = await this.git.diff(before, after);
    return { files, linesChanged: files.reduce((n, f) => n + f.added + f.removed, 0), checkpoint: after };
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
    await this.git.restore(checkpoint);
    await this.mark(checkpoint);
  }

  pathsAt(checkpoint: CheckpointId): Promise<string[]> {
    return this.files.paths(checkpoint);
  }

  readAt(checkpoint: CheckpointId, path: string): Promise<string | undefined> {
    return this.files.read(checkpoint, path);
  }

  async restorePaths(checkpoint: CheckpointId, paths: readonly string[]): Promise<void> {
    // The workspace no longer matches the last checkpoint: the next one must ask git, whatever the watcher says.
    this.last = undefined;
    await this.files.restore(checkpoint, paths);
  }

  async removePaths(paths: readonly string[]): Promise<void> {
    this.last = undefined;
    await this.files.remove(paths);
  }

  async close(): Promise<void> {
    // Nothing held between calls: the watcher keeps only a snapshot file.
  }

  private async checkpoint(): Promise<CheckpointId> {
    const tree = await this.git.snapshot();
    await this.mark(tree);
    return tree;
  }

  /**
   * The watcher is marked only right after git recorded the workspace: git's pass over the tree takes longer than one
   * coarse mtime tick, so a write in the same tick as the mark cannot be one the checkpoint missed.
   */
  private async mark(tree: CheckpointId): Promise<void> {
    this.last = tree;
    // A failed mark leaves the watcher answering "unknown", so the next check asks git: nothing is missed.
    await this.watcher?.mark().catch(() => undefined);
  }

  /** false only when the watcher is sure nothing changed since the last checkpoint. */
  private async changedSinceLast(): Promise<boolean> {
    if (this.watcher === undefined) return true;
    const changed = await this.watcher.changedSince();
    return changed === undefined || changed.length > 0;
  }
}
