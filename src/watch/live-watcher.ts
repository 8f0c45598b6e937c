import { chmod, lstat, readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type ParcelWatcher from "@parcel/watcher";
import { IGNORED_NAMES, inside, parcelIgnore, parcelWatcher, relativePath } from "./parcel.js";

export interface LiveWatcherOptions {
  readonly workspace: string;
  /** More absolute paths never reported, each with everything under it (besides `.git`, `.orc`, `node_modules`). */
  readonly ignore?: readonly string[];
  /** How long `take()` waits for its sync point before it gives up (default 5 s). */
  readonly syncTimeoutMs?: number;
  /** Paths reported between two `take()`s from which a lost event is possible (default 8,192). See the class comment. */
  readonly maxPaths?: number;
}

const DEFAULT_SYNC_TIMEOUT_MS = 5000;
/** Half the kernel's default inotify queue (fs.inotify.max_queued_events = 16,384). */
const DEFAULT_MAX_PATHS = 8192;

/**
 * A live subscription to the workspace's changes (@parcel/watcher 2.x; inotify on Linux), kept for as long as the
 * workspace is open, so that "what changed since the last checkpoint" is a list of paths, not a walk of every file.
 * It reports files and directories created, written, deleted, renamed (as a deletion and a creation) and chmodded.
 *
 * The sync point. parcel hands events over in batches (src/Debounce.cc: at once after 500 ms without any, else
 * 50 ms after the latest), so the paths reported so far can lag behind the disk. `take()` therefore marks "now" in
 * the same stream: it sets the workspace directory's mode to what it already is (an attribute event on the
 * directory itself; no file is created, nothing else changes) and waits for that event. One inotify queue, read in
 * order, and one callback queue: once the mark arrives, every change made before `take()` was called has arrived
 * too. It costs under 1 ms after a quiet spell and about 50 ms right after other events. A change to the workspace
 * directory's own attributes made by someone else at that instant ends the wait early.
 *
 * When it cannot vouch for the list, `take()` answers `undefined` (the caller records the whole workspace) and
 * renews the subscription (a fresh walk), because parcel drops these silently (src/linux/InotifyBackend.cc):
 * - an error from the subscription, or a sync point that never came;
 * - a burst of at least `maxPaths` paths: the kernel's queue may have overflowed, and lost events can include the
 *   creation of a directory, which parcel would then never watch;
 * - a created directory whose subdirectories were not reported: parcel watches a new directory, not what is already
 *   in it, so a directory moved or renamed into place, or a tree created faster than parcel could add its watches,
 *   would leave subdirectories unwatched (and those of a renamed directory reporting their old paths).
 * Files inside a created directory may go unreported (written before parcel watched it): a path means "this path
 * and everything under it". A watch that fails for a new directory once the per-user limit
 * (fs.inotify.max_user_watches) is reached is dropped silently too: the limit must fit the workspace's directories.
 */
export class LiveWatcher {
  readonly workspace: string;
  private readonly ignorePaths: string[];
  private readonly syncTimeoutMs: number;
  private readonly maxPaths: number;
  private subscription: { readonly unsubscribe: () => Promise<void> } | undefined;
  private changed = new Set<string>();
  private created = new Set<string>();
  private failed = false;
  /** Those waiting for the sync point: told true when it arrived, false when the watcher closed first. */
  private syncWaiters: ((arrived: boolean) => void)[] = [];

  private constructor(options: LiveWatcherOptions) {
    this.workspace = resolve(options.workspace);
    this.ignorePaths = (options.ignore ?? []).map((p) => resolve(this.workspace, p));
    this.syncTimeoutMs = options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    this.maxPaths = options.maxPaths ?? DEFAULT_MAX_PATHS;
  }

  /** Subscribes and checks that the sync point works here; throws when either fails (no inotify, too many dirs). */
  static async start(options: LiveWatcherOptions): Promise<LiveWatcher> {
    const watcher = new LiveWatcher(options);
    await watcher.subscribe();
    if (!(await watcher.sync())) {
      await watcher.close();
      throw new Error(`no change events for ${watcher.workspace} arrived within ${String(watcher.syncTimeoutMs)} ms`);
    }
    watcher.clear();
    return watcher;
  }

  /**
   * Waits for the sync point, then hands over every path (relative, `/`-separated, sorted) changed since the last
   * `take()` or `clear()` and forgets them; `undefined` when the list cannot be trusted (see the class comment).
   */
  async take(): Promise<string[] | undefined> {
    if (this.subscription === undefined) return undefined;
    const synced = await this.sync();
    const changed = this.changed;
    const created = this.created;
    this.clear();
    if (!synced || this.failed || changed.size >= this.maxPaths || (await this.missedDirectory(created, changed))) {
      await this.renew();
      return undefined;
    }
    return [...changed].sort();
  }

  /** Forgets what was reported so far (the caller recorded the whole workspace). */
  clear(): void {
    this.changed = new Set();
    this.created = new Set();
  }

  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    this.releaseWaiters(false);
    await subscription?.unsubscribe().catch(() => undefined);
  }

  private async subscribe(): Promise<void> {
    this.failed = false;
    let live = true;
    const onEvents = (error: Error | null, events: ParcelWatcher.Event[]): void => {
      if (!live) return;
      if (error !== null) this.failed = true;
      let synced = false;
      for (const event of events) {
        if (event.path === this.workspace) {
          synced = true; // the sync point (or the workspace directory itself changed: nothing git records)
          if (event.type === "delete") this.failed = true;
          continue;
        }
        if (!inside(this.workspace, event.path)) continue;
        const rel = relativePath(this.workspace, event.path);
        this.changed.add(rel);
        if (event.type === "create") this.created.add(rel);
      }
      if (synced) this.releaseWaiters(true);
    };
    const parcel = await parcelWatcher();
    const subscription = await parcel.subscribe(this.workspace, onEvents, { ignore: parcelIgnore(this.ignorePaths) });
    this.subscription = {
      unsubscribe: () => {
        live = false;
        return subscription.unsubscribe();
      },
    };
  }

  /** Unsubscribes and subscribes afresh; when that fails, the watcher stays closed and `take()` answers undefined. */
  private async renew(): Promise<void> {
    await this.close();
    try {
      await this.subscribe();
    } catch {
      this.subscription = undefined;
    }
  }

  /** Marks "now" in the event stream and waits for the mark; false when it did not come in time. */
  private async sync(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<boolean>((done) => {
      this.syncWaiters.push(done);
      timer = setTimeout(() => {
        done(false);
      }, this.syncTimeoutMs);
    });
    try {
      const { mode } = await stat(this.workspace);
      await chmod(this.workspace, mode & 0o7777);
      return await arrived;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private releaseWaiters(arrived: boolean): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const release of waiters) release(arrived);
  }

  /** True when a directory created since the last take() holds a subdirectory parcel did not report (so not watched). */
  private async missedDirectory(created: ReadonlySet<string>, changed: ReadonlySet<string>): Promise<boolean> {
    for (const dir of created) {
      const full = join(this.workspace, dir);
      const entries = await lstat(full)
        .then((s) => (s.isDirectory() ? readdir(full, { withFileTypes: true }) : []))
        .catch(() => []);
      for (const entry of entries) {
        if (!entry.isDirectory() || IGNORED_NAMES.has(entry.name)) continue;
        if (this.ignorePaths.some((p) => p === join(full, entry.name))) continue;
        if (!changed.has(`${dir}/${entry.name}`)) return true;
      }
    }
    return false;
  }
}
