import type { ShadowGit } from "../state/checkpoints.js";
import type { ChangeWatcher } from "../watch/snapshot-watcher.js";
import type { AttemptChanges, ChangeTracker } from "./deps.js";

/**
 * Checkpoints around each attempt in the shadow git store, and the files that changed between them. With a watcher
 * (concurrency 1), an attempt that changed nothing costs no git process at all: the watcher's snapshot says so and
 * the previous checkpoint is reused. Without one (tasks running side by side), every attempt is checkpointed.
 */
const VERIFIED_WINDOW_MS = 1_000;

export class CheckpointTracker implements ChangeTracker {
  private last: string | undefined;
  /** When the watcher last confirmed the workspace equals `last`, if nothing has run in it since. */
  private verifiedAt: number | undefined;

  constructor(
    private readonly git: ShadowGit,
    private readonly watcher: ChangeWatcher | undefined,
    private readonly refPrefix: string,
  ) {}

  /**
   * Starts from `tree`, a checkpoint of the workspace just taken (the run takes its first one while its modules load):
   * the first `before` then only asks the watcher, which is marked here, right after that checkpoint.
   */
  async begin(tree: string): Promise<void> {
    this.last = tree;
    this.verifiedAt = undefined;
    await this.watcher?.mark();
  }

  async before(): Promise<string> {
    // The previous attempt's `after` just proved the workspace unchanged and nothing (no gate) has run since: asking
    // the watcher again within the same second would only repeat its answer. Anything older is checked afresh.
    const fresh = this.verifiedAt !== undefined && Date.now() - this.verifiedAt < VERIFIED_WINDOW_MS;
    this.verifiedAt = undefined;
    if (this.last === undefined || (!fresh && (await this.changedSinceMark()))) await this.checkpoint();
    if (this.last === undefined) throw new Error("checkpoint() sets last");
    return this.last;
  }

  async after(before: string, label?: string, beforeCheckpoint?: () => void): Promise<AttemptChanges> {
    if (!(await this.changedSinceMark())) {
      this.verifiedAt = Date.now();
      return { files: [], linesChanged: 0, checkpoint: before };
    }
    beforeCheckpoint?.();
    const tree = await this.checkpoint();
    this.verifiedAt = Date.now();
    if (label !== undefined) await this.git.saveRef(`${this.refPrefix}/${label}`, tree);
    const files = tree === before ? [] : await this.git.diff(before, tree);
    return { files, linesChanged: files.reduce((n, f) => n + f.added + f.removed, 0), checkpoint: tree };
  }

  /**
   * The watcher is marked only right after a git snapshot, never on its own: git's pass over the tree takes longer
   * than one coarse mtime tick, so a write that lands in the same tick as the mark cannot be one the snapshot missed
   * (the watcher compares mtimes only; see src/watch/snapshot-watcher.ts). When nothing changed, the old mark stays.
   */
  private async checkpoint(): Promise<string> {
    const tree = await this.git.snapshot();
    await this.watcher?.mark();
    this.last = tree;
    return tree;
  }

  async patch(before: string, after: string, paths: readonly string[]): Promise<string> {
    if (before === after || paths.length === 0) return "";
    try {
      return await this.git.patch(before, after, paths);
    } catch {
      return ""; // evidence only: a diff too large to keep must not stop the attempt
    }
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }

  /** Something ran in the workspace (a gate): the next `before` must look again. */
  invalidate(): void {
    this.verifiedAt = undefined;
  }

  /** false only when the watcher is sure nothing changed. */
  private async changedSinceMark(): Promise<boolean> {
    if (this.watcher === undefined) return true;
    const changed = await this.watcher.changedSince();
    return changed === undefined || changed.length > 0;
  }
}
