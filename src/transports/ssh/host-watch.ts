/**
 * "Did the host copy change since the last sync?" without walking it: orc's own inotify watcher
 * (src/watch/inotify-watcher.ts) over the host directory a remote copy mirrors, minus the paths never synced. Its sync
 * point `take()` hands over what changed since the previous one. orc writes that directory itself when it brings the
 * remote's changes back: after a pull, `ownWrites()` takes those events and keeps only what orc did not write, so a
 * pull does not make the next push walk. When the watcher cannot vouch (an overflow, a watch it could not add, a sync
 * point that never came; not Linux), the answer is "changed", and the caller walks as it did without a watcher.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InotifyWatcher } from "../../watch/inotify-watcher.js";

export class HostWatch {
  /** Something changed that the next push has not walked yet. */
  private pending = false;

  private constructor(
    private readonly watcher: InotifyWatcher,
    private readonly forget: () => void,
  ) {}

  /** Watches `root` but `skip` (relative paths); undefined when it cannot (the caller walks every time). */
  static async start(root: string, skip: ReadonlySet<string>): Promise<HostWatch | undefined> {
    // tmpfs where there is one: a sync point creates and removes a file, which a disk's journal makes ~4x slower.
    const syncDir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "orc-ssh-watch-"));
    try {
      const watcher = await InotifyWatcher.start({ workspace: root, syncDir, ignore: [...skip], ignoredNames: new Set() });
      // An orc that exits without closing its transport (an error on the way out) leaves no directory in /dev/shm.
      leftAtExit(syncDir, true);
      return new HostWatch(watcher, () => { leftAtExit(syncDir, false); });
    } catch {
      rmSync(syncDir, { recursive: true, force: true });
      return undefined;
    }
  }

  /** The changes `changed()` reported did not reach the remote (the push failed): the next call reports them again. */
  requeue(): void {
    this.pending = true;
  }

  /** Whether anything changed since the last call (or may have: the watcher could not say). */
  async changed(): Promise<boolean> {
    const paths = await this.watcher.take();
    const changed = this.pending || paths === undefined || paths.length > 0;
    this.pending = false;
    return changed;
  }

  /**
   * Takes the events of orc's own writes (`touched`: the paths a pull wrote or deleted, each with everything under
   * it; their parents, made on the way, count as orc's too); anything else is remembered for the next `changed()`.
   */
  async ownWrites(touched: readonly string[]): Promise<void> {
    const paths = await this.watcher.take();
    if (paths === undefined) {
      this.pending = true;
      return;
    }
    const written = new Set(touched);
    const parents = new Set<string>();
    for (const t of touched) for (let i = t.lastIndexOf("/"); i > 0; i = t.lastIndexOf("/", i - 1)) parents.add(t.slice(0, i));
    const own = (path: string): boolean => {
      if (written.has(path) || parents.has(path)) return true;
      for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) if (written.has(path.slice(0, i))) return true;
      return false;
    };
    if (paths.some((p) => !own(p))) this.pending = true;
  }

  close(): Promise<void> {
    this.forget();
    return this.watcher.close();
  }
}

/** Sync directories to remove when orc exits, with one exit listener for all of them (a run may hold many copies). */
const atExit = new Set<string>();

function leftAtExit(dir: string, keep: boolean): void {
  if (atExit.size === 0 && keep) process.once("exit", () => { for (const d of atExit) rmSync(d, { recursive: true, force: true }); });
  if (keep) atExit.add(dir);
  else atExit.delete(dir);
}
