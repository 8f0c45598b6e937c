import { InotifyWatcher } from "../watch/inotify-watcher.js";
import { LiveWatcher } from "../watch/live-watcher.js";
import { ChangeWatcher } from "../watch/snapshot-watcher.js";

/** How a LocalWorkspace learns where its files changed since the last checkpoint, short of reading them all. */
export interface ChangeSource {
  /**
   * Paths (relative, `/`-separated, each with everything under it) that may have changed since `recorded()`: `[]`
   * when nothing did, `undefined` when anything may have (record the whole workspace).
   */
  changes(): Promise<readonly string[] | undefined>;
  /** Called once git has recorded the workspace as it is now (a checkpoint or a restore). */
  recorded(): Promise<void>;
  close(): Promise<void>;
}

export interface ChangeSourceOptions {
  /** Files in the workspace at the first checkpoint. */
  readonly files: number;
  /** From this many files on, a live subscription decides (see LocalWorkspace). */
  readonly liveFrom: number;
  /** One attempt at a time (see LocalWorkspaceOptions.exclusive). */
  readonly exclusive: boolean;
  readonly workspace: string;
  readonly snapshotFile: string;
  /** A private directory for the live subscription's sync point (src/watch/inotify-watcher.ts). */
  readonly syncDir: string;
  /** Absolute paths that are never part of the workspace (the state directory). */
  readonly ignore: readonly string[];
}

/** The source for a workspace of this size, chosen right after the first checkpoint (LocalWorkspace's class comment). */
export function chooseChangeSource(options: ChangeSourceOptions): ChangeSource {
  if (options.files >= options.liveFrom) return liveSource(options);
  if (!options.exclusive) return everything;
  return snapshotSource(new ChangeWatcher({ workspace: options.workspace, snapshotFile: options.snapshotFile, ignore: options.ignore }));
}

/** A live subscription to the workspace's changes: paths changed since the last take, complete at its sync point. */
export interface LiveChanges {
  /** The paths changed since the last take() or clear(), once every change made before the call has arrived; undefined when it cannot vouch. */
  take(): Promise<string[] | undefined>;
  clear(): void;
  close(): Promise<void>;
}

/**
 * orc's own inotify watches on Linux (a sync point without @parcel/watcher's 50 ms debounce), else @parcel/watcher
 * (other platforms, or when the watches cannot all be added); throws when neither starts.
 */
export async function startLive(options: { readonly workspace: string; readonly ignore: readonly string[]; readonly syncDir: string }): Promise<LiveChanges> {
  try {
    return await InotifyWatcher.start(options);
  } catch {
    return LiveWatcher.start({ workspace: options.workspace, ignore: options.ignore });
  }
}

/**
 * The paths a live subscription reported, complete once its sync point arrived. The subscription starts now, in the
 * background (it walks every directory first), so the first attempt need not wait for it; the first recording once
 * it is live records everything, since changes made before it went unreported, and every recording after that
 * follows its paths.
 */
function liveSource(options: ChangeSourceOptions): ChangeSource {
  const started = startLive({ workspace: options.workspace, ignore: options.ignore, syncDir: options.syncDir }).catch(() => undefined);
  let covered = false;
  return {
    changes: async () => {
      const live = await started;
      if (live === undefined) return undefined; // no subscription here (no inotify, too few watches): git records everything
      if (covered) return live.take();
      covered = true;
      live.clear();
      return undefined;
    },
    recorded: () => Promise.resolve(),
    close: async () => {
      await (await started)?.close();
    },
  };
}

/**
 * "Nothing changed" without a sync point, from an mtime snapshot (a walk costs milliseconds at this size), or
 * "something did": git records everything (milliseconds too). Its blind spots (a chmod alone, a rewrite within one
 * clock tick of the mark) are in src/watch/snapshot-watcher.ts.
 */
function snapshotSource(snapshot: ChangeWatcher): ChangeSource {
  return {
    changes: async () => ((await snapshot.changedSince())?.length === 0 ? [] : undefined),
    // A failed mark leaves the snapshot answering "unknown", so the next check records everything: nothing is missed.
    recorded: () => snapshot.mark().catch(() => undefined),
    close: () => Promise.resolve(),
  };
}

/** Attempts side by side in a small workspace: git records everything each time (milliseconds at this size). */
const everything: ChangeSource = {
  changes: () => Promise.resolve(undefined),
  recorded: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
