import { watch, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync, type FSWatcher } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { IGNORED_NAMES } from "./parcel.js";

export interface InotifyWatcherOptions {
  readonly workspace: string;
  /** More absolute paths never watched nor reported, each with everything under it (besides `.git`, `.orc`, `node_modules`). */
  readonly ignore?: readonly string[];
  /** A private directory for the sync point's marker files (created; emptied by `close()`); outside the workspace or ignored. */
  readonly syncDir: string;
  /** How long `take()` waits for its sync point before it gives up (default 5 s). */
  readonly syncTimeoutMs?: number;
  /** The kernel's queue length for one inotify instance (default: /proc/sys/fs/inotify/max_queued_events). */
  readonly maxQueuedEvents?: number;
  /**
   * Names never watched at any depth (default `.git`, `.orc`, `node_modules`, as checkpoints leave them out); a
   * caller that syncs those too (the ssh transport) passes its own.
   */
  readonly ignoredNames?: ReadonlySet<string>;
}

const DEFAULT_SYNC_TIMEOUT_MS = 5000;
const DEFAULT_MAX_QUEUED_EVENTS = 16_384;

interface Watched {
  readonly watcher: FSWatcher;
  /** The directory's inode when the watch was added: inotify watches an inode, not a name. */
  readonly ino: number;
}

/**
 * orc's own live subscription on Linux: one non-recursive `fs.watch` (an inotify watch) per directory of the
 * workspace, with a sync point that costs no debounce. Why not @parcel/watcher (src/watch/live-watcher.ts, still
 * the fallback): parcel hands over events 50 ms after the latest when it delivered any in the last 500 ms, and has
 * no way to flush, so a sync point right after an attempt cost 50 ms: a third of a `git status` in a 100,000-file
 * workspace, twice per attempt.
 *
 * The sync point. Node's watches all share one inotify instance (libuv keeps one per event loop), so the kernel
 * queues every watch's events in one queue, in the order the changes were made (a write's event is queued before
 * the write returns), and libuv reads that queue in order, calling each watch's listener as it goes. `take()`
 * creates a uniquely named marker file in `syncDir`, which has a watch of its own, and waits for that file's event:
 * once it arrives, every change made in any watched directory before `take()` was called has been delivered too.
 *
 * New directories. A directory created or moved in (an event in its parent) is watched at once, in the listener,
 * together with the directories already inside it (watch first, then list, so none created meanwhile is missed),
 * and its path is reported: a path means "this path and everything under it", so files written in it before its
 * watch existed are recorded by the checkpoint that follows. A directory deleted or moved away loses its watches
 * (inotify follows the inode: a moved directory would report its old paths), and one replaced by another inode is
 * watched afresh.
 *
 * What it cannot vouch for makes `take()` answer `undefined` (the caller records the whole workspace) and start
 * afresh (a new walk): a sync point that never came, a watch it could not add (fs.inotify.max_user_watches reached),
 * a watch error, and a possible overflow of the kernel's queue. libuv drops the kernel's IN_Q_OVERFLOW event
 * without a word, so overflow is inferred: the queue holds `maxQueuedEvents` at most, and when it overflows every
 * event it held is still read; what it held was queued after the sync point before last (that one's take() had
 * read everything before it). So events lost between two sync points mean at least `maxQueuedEvents` events read
 * in the last two intervals; `take()` gives up from half that many, leaving room for events of watches it does not
 * count (stale ones of closed watches).
 */
export class InotifyWatcher {
  readonly workspace: string;
  private readonly ignorePaths: readonly string[];
  private readonly ignoredNames: ReadonlySet<string>;
  private readonly syncDir: string;
  private readonly syncTimeoutMs: number;
  private readonly overflowFrom: number;
  /** Watched directories by relative path ("" for the workspace itself). */
  private readonly watched = new Map<string, Watched>();
  private changed = new Set<string>();
  private failed = false;
  private closed = false;
  /** Events read in the interval before the current one, and in the current one (see the class comment). */
  private eventsBefore = 0;
  private events = 0;
  private syncWatch: FSWatcher | undefined;
  private marks = 0;
  /** The sync point's waiters by marker name: told true when the marker arrived, false when the watcher closed. */
  private readonly waiters = new Map<string, (arrived: boolean) => void>();

  private constructor(options: InotifyWatcherOptions) {
    this.workspace = resolve(options.workspace);
    this.ignorePaths = (options.ignore ?? []).map((p) => resolve(this.workspace, p));
    this.ignoredNames = options.ignoredNames ?? IGNORED_NAMES;
    this.syncDir = resolve(options.syncDir);
    this.syncTimeoutMs = options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    this.overflowFrom = Math.floor((options.maxQueuedEvents ?? maxQueuedEvents()) / 2);
  }

  /** Watches every directory and checks the sync point; throws when that fails (no inotify, too few watches). */
  static async start(options: InotifyWatcherOptions): Promise<InotifyWatcher> {
    if (process.platform !== "linux") throw new Error("inotify is Linux's");
    const watcher = new InotifyWatcher(options);
    try {
      if (!(await watcher.watchAll())) throw new Error(`could not watch every directory of ${watcher.workspace} (fs.inotify.max_user_watches?)`);
      if (!(await watcher.sync())) throw new Error(`no change events for ${watcher.workspace} arrived within ${String(watcher.syncTimeoutMs)} ms`);
    } catch (error) {
      await watcher.close();
      throw error;
    }
    watcher.clear();
    return watcher;
  }

  /** Directories watched now (the workspace's own included). */
  get directories(): number {
    return this.watched.size;
  }

  /**
   * Waits for the sync point, then hands over every path (relative, `/`-separated, sorted) changed since the last
   * `take()` or `clear()` and forgets them; `undefined` when the list cannot be trusted (see the class comment).
   */
  async take(): Promise<string[] | undefined> {
    if (this.closed) return undefined;
    const synced = await this.sync();
    const changed = this.changed;
    const overflow = this.eventsBefore + this.events >= this.overflowFrom;
    this.clear();
    if (!synced || this.failed || overflow) {
      await this.renew();
      return undefined;
    }
    return [...changed].sort();
  }

  /** Forgets what was reported so far (the caller recorded the whole workspace). */
  clear(): void {
    this.changed = new Set();
    this.eventsBefore = this.events;
    this.events = 0;
  }

  close(): Promise<void> {
    this.closed = true;
    this.unwatchAll();
    for (const release of this.waiters.values()) release(false);
    this.waiters.clear();
    rmSync(this.syncDir, { recursive: true, force: true });
    return Promise.resolve();
  }

  /** The sync directory's watch, then every directory of the workspace, each watched before it is listed; false when one failed. */
  private async watchAll(): Promise<boolean> {
    mkdirSync(this.syncDir, { recursive: true });
    this.syncWatch = watch(this.syncDir, { persistent: false }, (_type, name) => {
      this.events++;
      if (typeof name !== "string") return;
      const release = this.waiters.get(name);
      this.waiters.delete(name);
      release?.(true);
    });
    this.syncWatch.on("error", () => (this.failed = true));
    const pending: string[] = [""];
    for (let dir = pending.pop(); dir !== undefined && !this.failed; dir = pending.pop()) {
      const full = this.full(dir);
      const ino = await lstat(full).then((s) => (s.isDirectory() ? s.ino : undefined)).catch(() => undefined);
      if (ino === undefined || !this.add(dir, ino)) continue;
      const entries = await readdir(full, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) if (entry.isDirectory() && this.watchable(dir, entry.name)) pending.push(join(dir, entry.name));
    }
    return !this.failed;
  }

  /** Adds one directory's watch; false (and `failed` set) when the kernel refused it. */
  private add(dir: string, ino: number): boolean {
    // Already watched: the walk and a listener (a directory created during the walk) can both reach it.
    const known = this.watched.get(dir);
    if (known?.ino === ino) return true;
    known?.watcher.close();
    try {
      const watcher = watch(this.full(dir), { persistent: false }, (type, name) => {
        this.onEvent(dir, type, name);
      });
      watcher.on("error", () => (this.failed = true));
      this.watched.set(dir, { watcher, ino });
      return true;
    } catch (error) {
      // ENOENT: gone already (its parent's event tells); anything else (ENOSPC: no watches left) loses events.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.failed = true;
      return false;
    }
  }

  private onEvent(dir: string, type: string, name: string | Buffer | null): void {
    this.events++;
    if (this.closed) return;
    if (typeof name !== "string") {
      this.failed = true; // a name that cannot be told: nothing to report it under
      return;
    }
    if (!this.watchable(dir, name)) return;
    const path = join(dir, name);
    this.changed.add(path);
    // Created, deleted or moved: a directory there now is watched, one no longer there is not.
    if (type === "rename") this.rewatch(path);
  }

  /** Brings the watches at and under `path` in line with what is on disk, synchronously (see the class comment). */
  private rewatch(path: string): void {
    let ino: number | undefined;
    try {
      const stats = lstatSync(this.full(path));
      if (stats.isDirectory()) ino = stats.ino;
    } catch {
      ino = undefined;
    }
    if (ino !== undefined && this.watched.get(path)?.ino === ino) return;
    this.unwatchUnder(path);
    if (ino === undefined) return;
    const pending = [{ dir: path, ino }];
    for (let next = pending.pop(); next !== undefined && !this.failed; next = pending.pop()) {
      if (!this.add(next.dir, next.ino)) continue;
      let entries: string[] = [];
      try {
        entries = readdirSync(this.full(next.dir), { withFileTypes: true })
          .filter((e) => e.isDirectory() && this.watchable(next.dir, e.name))
          .map((e) => e.name);
      } catch {
        entries = [];
      }
      for (const name of entries) {
        const dir = join(next.dir, name);
        try {
          const stats = lstatSync(this.full(dir));
          if (stats.isDirectory()) pending.push({ dir, ino: stats.ino });
        } catch {
          // gone meanwhile: its parent's watch reports it
        }
      }
    }
  }

  private unwatchUnder(path: string): void {
    const prefix = `${path}/`;
    for (const [dir, { watcher }] of this.watched) {
      if (dir !== path && !dir.startsWith(prefix)) continue;
      watcher.close();
      this.watched.delete(dir);
    }
  }

  private unwatchAll(): void {
    for (const { watcher } of this.watched.values()) watcher.close();
    this.watched.clear();
    this.syncWatch?.close();
    this.syncWatch = undefined;
  }

  /** Drops every watch and walks afresh; when that fails, the watcher stays closed and `take()` answers undefined. */
  private async renew(): Promise<void> {
    this.unwatchAll();
    this.failed = false;
    this.eventsBefore = 0;
    this.events = 0;
    if (!(await this.watchAll())) {
      this.unwatchAll();
      this.closed = true;
    }
    this.clear();
  }

  /** Marks "now" in the kernel's queue and waits for the mark; false when it did not come in time. */
  private async sync(): Promise<boolean> {
    const name = `mark-${String(process.pid)}-${String(++this.marks)}`;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<boolean>((done) => {
      this.waiters.set(name, done);
      timer = setTimeout(() => {
        this.waiters.delete(name);
        done(false);
      }, this.syncTimeoutMs);
    });
    try {
      writeFileSync(join(this.syncDir, name), "");
      return await arrived;
    } catch {
      this.waiters.delete(name);
      return false;
    } finally {
      clearTimeout(timer);
      // unlink, not rmSync: this runs at every sync point, and rmSync stats the path twice before removing it.
      try {
        unlinkSync(join(this.syncDir, name));
      } catch {
        // never made (the write failed), or the directory went with close()
      }
    }
  }

  /** Whether `name` in `dir` is part of the workspace (not `.git`, `.orc`, `node_modules`, nor an ignored path). */
  private watchable(dir: string, name: string): boolean {
    if (this.ignoredNames.has(name)) return false;
    const full = this.full(join(dir, name));
    return !this.ignorePaths.some((p) => full === p || full.startsWith(`${p}/`));
  }

  private full(rel: string): string {
    return rel === "" ? this.workspace : join(this.workspace, rel);
  }
}

/** The kernel's queue length for one inotify instance; events past it are lost. */
function maxQueuedEvents(): number {
  try {
    const value = Number.parseInt(readFileSync("/proc/sys/fs/inotify/max_queued_events", "utf8"), 10);
    return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_QUEUED_EVENTS;
  } catch {
    return DEFAULT_MAX_QUEUED_EVENTS;
  }
}
