import { mkdir } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type ParcelWatcher from "@parcel/watcher";
import { DirectoryWatches } from "./directory-watches.js";
import { loadNativeWatcher, type NativeOptions, type NativeWatcher } from "./parcel-native.js";

let native: NativeWatcher | undefined;
/** The native watcher, loaded by the first watcher made, not with this module (other commands bundle it too). */
function nativeWatcher(): NativeWatcher {
  native ??= loadNativeWatcher();
  return native;
}

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
  /** @parcel/watcher backend; default "brute-force" (a tree walk comparing mtimes, the same on every platform). */
  readonly backend?: ParcelWatcher.BackendType;
  /**
   * How long `mark()` waits after writing the snapshot, in ms (default 12): longer than one tick of the kernel's
   * coarse clock (HZ=100 gives 10 ms), so every write after `mark()` returns gets an mtime later than any mtime the
   * snapshot recorded. See the class comment.
   */
  readonly settleMs?: number;
}

/** Ignored at the top of the workspace (a prefix test on the path). */
const ALWAYS_IGNORED_PATHS: readonly string[] = [".git", ".orc", "node_modules"];
/**
 * The same names at any depth, as a std::regex that must match the whole path relative to the workspace (ECMAScript
 * grammar; @parcel/watcher's src/Glob.cc, Watcher::isIgnored). The binding compiles it on every call: this plain
 * pattern costs almost nothing, where the package's JS wrapper would hand it a RegExp wrapped in
 * `^[\s\S]*(?:…)[\s\S]*$`, whose two bracket expressions cost libstdc++ ~75 µs a call to compile.
 * tests/watch.test.ts holds the ignores to what they promise.
 */
const NESTED_IGNORED = "(.*/)?(\\.git|\\.orc|node_modules)";
const NESTED_NAMES: ReadonlySet<string> = new Set(ALWAYS_IGNORED_PATHS);
const DEFAULT_SETTLE_MS = 12;

/**
 * Tells whether anything in the workspace changed since `mark()`, without spawning a process, so the run loop takes a
 * git checkpoint only when an attempt changed something.
 *
 * How precise it is (checked against @parcel/watcher 2.x, src/unix/legacy.cc, src/DirTree.cc): `writeSnapshot` walks
 * the tree and records each entry's path and mtime in nanoseconds (st_mtim); `getEventsSince` walks it again and
 * reports a path as created, deleted, or updated when its mtime differs. Nothing else is compared: not size, inode or
 * mode. Consequences:
 * - A write is missed if it leaves the mtime exactly as recorded. The file system stamps mtimes from the kernel's
 *   coarse clock (one tick, 1-10 ms), so a file written, snapshotted and written again within one tick keeps its
 *   mtime (kernels from 6.13 hand out fine-grained stamps to files whose time was read since, which closes this on
 *   ext4/xfs/btrfs/tmpfs, but older kernels and other file systems do not). `mark()` therefore waits `settleMs`
 *   after the snapshot: a write that starts after `mark()` returns lands in a later tick. Writes that race with
 *   `mark()` itself (a process still running while the snapshot is taken) can still be missed.
 * - A change of permissions only (`chmod +x`) does not change the mtime and is not seen by the walk, though git
 *   records the executable bit. Neither is a file restored with its old mtime to the nanosecond (`cp -p`, `touch -r`).
 * - Ignored paths (above) are not seen even if git tracks them; file systems with coarse mtimes (FAT: 2 s) are not
 *   supported.
 * On Linux, inotify watches on the workspace's directories (src/watch/directory-watches.ts, for workspaces of up to
 * 500 directories) come first: when no event arrived since `mark()`, nothing changed and the walk is skipped (an
 * attempt that changed nothing then costs one turn of the event loop); when an event arrived but the walk finds no
 * changed mtime (a chmod, a rewrite within one tick, a restored mtime), the answer is unknown, so git looks.
 * So `changedSince()` answers `undefined` ("unknown: take a checkpoint") whenever it cannot be sure it saw everything:
 * before the first `mark()` of this instance, after a failed `mark()`, when the watcher itself fails, and when a
 * watch saw what the walk did not.
 */
export class ChangeWatcher {
  readonly workspace: string;
  readonly snapshotFile: string;
  private options: NativeOptions;
  private readonly settleMs: number;
  private readonly backendChosen: boolean;
  private marked = false;
  private keepAlive: { readonly dir: string; readonly fn: () => undefined } | undefined;
  /** Linux: inotify watches that answer "nothing happened" without a walk (src/watch/directory-watches.ts). */
  private readonly watches: DirectoryWatches | undefined;

  constructor(options: ChangeWatcherOptions) {
    this.workspace = resolve(options.workspace);
    this.snapshotFile = resolve(options.snapshotFile);
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    const ignorePaths = [...ALWAYS_IGNORED_PATHS, ...(options.ignore ?? [])].map((p) => resolve(this.workspace, p));
    const snapshotDir = dirname(this.snapshotFile);
    if (inside(this.workspace, snapshotDir)) ignorePaths.push(snapshotDir);
    this.options = { ignorePaths, ignoreGlobs: [NESTED_IGNORED], backend: options.backend ?? "brute-force" };
    this.backendChosen = options.backend !== undefined;
    // Only where a change is reported by the next turn of the event loop (inotify); other platforms' watchers may lag.
    if (process.platform === "linux" && !this.backendChosen) {
      this.watches = new DirectoryWatches(this.workspace, (path) => ignorePaths.some((p) => path === p || path.startsWith(p + sep)) || NESTED_NAMES.has(basename(path)));
    }
  }

  /**
   * Makes every later call cheaper (Linux): @parcel/watcher starts a native backend, with a thread, for each
   * writeSnapshot/getEventsSince and tears it down after, unless a subscription holds that backend. A subscription to
   * an empty directory of orc's own holds the inotify backend for the run, and the snapshot calls then use it; they
   * walk and compare the tree exactly as the brute-force backend does (the inotify backend inherits those calls), so
   * only the cost changes (~0.3 ms to ~0.13 ms a call). Without inotify (limits, sandboxes) nothing changes. `close()`
   * ends the subscription, which would otherwise keep the process alive.
   */
  async start(): Promise<void> {
    if (this.keepAlive !== undefined || this.backendChosen || process.platform !== "linux") return;
    const dir = join(dirname(this.snapshotFile), "watch-backend");
    try {
      await mkdir(dir, { recursive: true });
      const fn = (): undefined => undefined;
      await nativeWatcher().subscribe(dir, fn, { backend: "inotify" });
      this.keepAlive = { dir, fn };
      this.options = { ...this.options, backend: "inotify" };
    } catch {
      // No inotify here: each call starts its own brute-force backend, as without start().
    }
  }

  async close(): Promise<void> {
    this.watches?.close();
    const subscription = this.keepAlive;
    this.keepAlive = undefined;
    this.options = { ...this.options, backend: "brute-force" };
    if (subscription !== undefined) await nativeWatcher().unsubscribe(subscription.dir, subscription.fn, { backend: "inotify" }).catch(() => undefined);
  }

  /** Records the workspace as it is now; later writes are measured against this. */
  async mark(): Promise<void> {
    this.marked = false;
    await mkdir(dirname(this.snapshotFile), { recursive: true });
    // Before the snapshot: a change made after it is in the snapshot or reported by a watch.
    this.watches?.arm();
    await nativeWatcher().writeSnapshot(this.workspace, this.snapshotFile, this.options);
    if (this.settleMs > 0) await new Promise((done) => setTimeout(done, this.settleMs));
    this.marked = true;
  }

  /**
   * Paths (relative to the workspace, `/`-separated, sorted, directories included) created, deleted or modified since
   * the last `mark()`; `[]` means nothing changed; `undefined` means unknown (take a checkpoint anyway).
   */
  async changedSince(): Promise<string[] | undefined> {
    if (!this.marked) return undefined;
    const watched = (await this.watches?.state()) ?? "unknown";
    if (watched === "quiet") return [];
    let events: ParcelWatcher.Event[];
    try {
      events = await nativeWatcher().getEventsSince(this.workspace, this.snapshotFile, this.options);
    } catch {
      return undefined;
    }
    const paths = new Set<string>();
    for (const event of events) {
      const rel = relative(this.workspace, event.path);
      if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) continue;
      paths.add(rel.split(sep).join("/"));
    }
    // A watch saw something the walk cannot (a chmod, a rewrite within one mtime tick): unknown, so git looks.
    if (paths.size === 0 && watched === "changed") return undefined;
    return [...paths].sort();
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
