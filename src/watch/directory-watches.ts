import { watch, readdirSync, type FSWatcher } from "node:fs";
import { join } from "node:path";

/** Beyond this many directories the watches are not worth their set-up: the snapshot alone answers. */
export const MAX_WATCHED_DIRECTORIES = 500;

/**
 * "Nothing happened here since `arm()`", known without walking the tree: one inotify watch (`fs.watch`) on each
 * directory of a small workspace. Any event in a watched directory (a file created, written, deleted, renamed or
 * chmod-ed; a directory created or removed) marks it changed. The kernel queues an event when the change is made, so
 * once a process has exited, the event loop's next poll delivers everything it did (`state()` waits for it).
 *
 * It only ever says "quiet" or "don't know": the caller walks the tree (src/watch/snapshot-watcher.ts) whenever it is
 * not quiet, and the walk says what changed. What it cannot see, and so must not be the only check for:
 * - ignored directories (`isIgnored`), which the walk ignores too;
 * - a file changed only through a shared memory mapping (no write, so no event), or through a hard link whose other
 *   name lies outside the workspace: the walk sees the first by its mtime; neither is how coding agents edit files.
 * A directory created, removed or replaced after `sync()` is seen by its parent's watch (so the next check walks), and
 * every directory is watched afresh from the next `arm()` on.
 */
export class DirectoryWatches {
  private readonly watchers = new Map<string, FSWatcher>();
  /** An event arrived since `arm()`. */
  private changed = false;
  /** The watches cover every directory since `arm()` (none failed). */
  private covered = false;
  /** Directories may have come or gone since the last `sync()`. */
  private stale = true;
  /** false for good once the workspace proved too big or unwatchable. */
  private usable = true;

  constructor(
    private readonly root: string,
    /** Absolute path → true when the change checks ignore it (and everything under it). */
    private readonly isIgnored: (path: string) => boolean,
    private readonly maxDirectories = MAX_WATCHED_DIRECTORIES,
  ) {}

  /**
   * Watches every directory the workspace has now (after changes: the ones added, no longer the ones gone) and starts
   * a new quiet period. Call it right before the state that later checks compare against is recorded, so a change
   * made after that is either in the record or reported by a watch.
   */
  arm(): void {
    if (!this.usable) return;
    if (this.stale && !this.sync()) {
      this.close();
      return;
    }
    this.stale = false;
    this.covered = true;
    this.changed = false;
  }

  /**
   * "quiet": every directory is watched and no event arrived since `arm()`; "changed": an event arrived (something
   * happened, though perhaps nothing a walk can see, like a chmod); "unknown": the watches do not cover the workspace.
   */
  async state(): Promise<"quiet" | "changed" | "unknown"> {
    if (this.usable && this.covered && !this.changed) {
      // Events the kernel queued before now (the agent has exited) are read by the event loop's next poll: the
      // second immediate runs only after a whole turn, poll included, whichever phase this was called from.
      await nextImmediate();
      await nextImmediate();
    }
    if (!this.usable || !this.covered) return "unknown";
    return this.changed ? "changed" : "quiet";
  }

  close(): void {
    this.usable = false;
    this.covered = false;
    this.unwatchAll();
  }

  private unwatchAll(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /**
   * Watches every directory there is now, afresh: a directory may have been replaced under the same path since
   * (`rm -rf src && mkdir src`, a rename over it), and a watch follows the directory it was set on, not the path.
   * false when the workspace has too many directories or one cannot be read or watched.
   */
  private sync(): boolean {
    this.unwatchAll();
    const found = new Set<string>();
    const pending = [this.root];
    try {
      for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
        found.add(dir);
        if (found.size > this.maxDirectories) return false;
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          // Dirent.isDirectory() is false for a symbolic link: links are not followed, as the walk does not.
          if (!entry.isDirectory()) continue;
          const path = join(dir, entry.name);
          if (!this.isIgnored(path)) pending.push(path);
        }
      }
      for (const dir of found) this.watchers.set(dir, this.watchOne(dir));
      return true;
    } catch {
      return false; // unreadable, gone, or out of inotify watches: the walk alone answers from now on
    }
  }

  private watchOne(dir: string): FSWatcher {
    // persistent: false: the watches never keep orc running.
    const w = watch(dir, { persistent: false }, (_event, name) => {
      // An ignored entry itself (a nested node_modules/ created, .git/ touched) is no change either.
      if (name !== null && this.isIgnored(join(dir, name))) return;
      this.changed = true;
      this.stale = true;
    });
    w.on("error", () => {
      // The directory cannot be watched any more: nothing is known until the next arm() re-syncs.
      this.covered = false;
      this.stale = true;
    });
    return w;
  }
}

function nextImmediate(): Promise<void> {
  return new Promise((done) => setImmediate(done));
}
