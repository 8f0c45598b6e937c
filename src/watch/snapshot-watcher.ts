import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type ParcelWatcher from "@parcel/watcher";
import { inside, parcelIgnore, parcelWatcher, relativePath } from "./parcel.js";

export interface ChangeWatcherOptions {
  readonly workspace: string;
  /** Where the snapshot is written (its directory is created); keep it outside the workspace or in an ignored path. */
  readonly snapshotFile: string;
  /**
   * More paths to ignore, besides `.git`, `.orc` and `node_modules` (at any depth): absolute paths or paths relative
   * to the workspace, each with everything under it. The snapshot file's directory is ignored when it lies inside
   * the workspace.
   */
  readonly ignore?: readonly string[];
  /**
   * How long `mark()` waits after writing the snapshot, in ms (default 12): longer than one tick of the kernel's
   * coarse clock (HZ=100 gives 10 ms), so every write after `mark()` returns gets an mtime later than any mtime the
   * snapshot recorded. See the class comment.
   */
  readonly settleMs?: number;
}

const DEFAULT_SETTLE_MS = 12;
/**
 * The tree walk, named: left to choose, @parcel/watcher first asks watchman, spawning a shell to look for it on
 * every call (two processes per attempt where watchman is not installed).
 */
const SNAPSHOT_BACKEND = "brute-force";

/**
 * Tells whether anything in the workspace changed since `mark()`, without spawning a process, so a workspace takes a
 * git checkpoint only when an attempt (or a gate) changed something.
 *
 * How precise it is (@parcel/watcher 2.x, src/unix/legacy.cc, src/DirTree.cc): `writeSnapshot` walks the tree and
 * records each entry's path and mtime in nanoseconds; `getEventsSince` walks it again and reports a path as created,
 * deleted, or updated when its mtime differs. Nothing else is compared: not size, inode or mode. Consequences:
 * - A write is missed if it leaves the mtime exactly as recorded. The file system stamps mtimes from the kernel's
 *   coarse clock (one tick, 1-10 ms), so a file written, snapshotted and written again within one tick keeps its
 *   mtime. `mark()` therefore waits `settleMs` after the snapshot: a write that starts after `mark()` returns lands
 *   in a later tick. Writes that race with `mark()` itself can still be missed.
 * - A change of permissions only (`chmod +x`) does not change the mtime and is not seen, though git records the
 *   executable bit; neither is a file restored with its old mtime to the nanosecond (`cp -p`, `touch -r`).
 * - Ignored paths (above) are not seen even if git tracks them.
 * So `changedSince()` answers `undefined` ("unknown: take a checkpoint") whenever it cannot be sure: before the
 * first `mark()`, after a failed `mark()`, and when the watcher itself fails.
 */
export class ChangeWatcher {
  readonly workspace: string;
  readonly snapshotFile: string;
  private readonly ignore: (string | RegExp)[];
  private readonly settleMs: number;
  private marked = false;

  constructor(options: ChangeWatcherOptions) {
    this.workspace = resolve(options.workspace);
    this.snapshotFile = resolve(options.snapshotFile);
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    const ignore = (options.ignore ?? []).map((p) => resolve(this.workspace, p));
    const snapshotDir = dirname(this.snapshotFile);
    if (inside(this.workspace, snapshotDir)) ignore.push(snapshotDir);
    this.ignore = parcelIgnore(ignore);
  }

  /** Records the workspace as it is now; later writes are measured against this. */
  async mark(): Promise<void> {
    this.marked = false;
    await mkdir(dirname(this.snapshotFile), { recursive: true });
    await (await parcelWatcher()).writeSnapshot(this.workspace, this.snapshotFile, { ignore: this.ignore, backend: SNAPSHOT_BACKEND });
    if (this.settleMs > 0) await new Promise((done) => setTimeout(done, this.settleMs));
    this.marked = true;
  }

  /**
   * Paths (relative to the workspace, `/`-separated, sorted, directories included) created, deleted or modified since
   * the last `mark()`; `[]` means nothing changed; `undefined` means unknown (take a checkpoint anyway).
   */
  async changedSince(): Promise<string[] | undefined> {
    if (!this.marked) return undefined;
    let events: ParcelWatcher.Event[];
    try {
      events = await (await parcelWatcher()).getEventsSince(this.workspace, this.snapshotFile, { ignore: this.ignore, backend: SNAPSHOT_BACKEND });
    } catch {
      return undefined;
    }
    const paths = new Set<string>();
    for (const event of events) {
      if (inside(this.workspace, event.path)) paths.add(relativePath(this.workspace, event.path));
    }
    return [...paths].sort();
  }
}
