import type { LiveWatcher } from "../watch/live-watcher.js";
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
  /** Started before the first checkpoint when the platform allows; closed here when not used. */
  readonly live: LiveWatcher | undefined;
  /** Files in the workspace at the first checkpoint. */
  readonly files: number;
  /** From this many files on, the live subscription decides (see LocalWorkspace). */
  readonly liveFrom: number;
  /** One attempt at a time (see LocalWorkspaceOptions.exclusive). */
  readonly exclusive: boolean;
  readonly workspace: string;
  readonly snapshotFile: string;
  readonly ignore: readonly string[];
}

/** The source for a workspace of this size, as LocalWorkspace's class comment explains. */
export async function chooseChangeSource(options: ChangeSourceOptions): Promise<ChangeSource> {
  const { live } = options;
  if (live !== undefined && options.files >= options.liveFrom) return liveSource(live);
  // Closed before a snapshot is taken: while a subscription runs, parcel answers snapshots from the tree the
  // subscription keeps (src/shared/BruteForceBackend.cc), which lacks what it does not watch, instead of walking.
  await live?.close();
  if (!options.exclusive) return everything;
  return snapshotSource(new ChangeWatcher({ workspace: options.workspace, snapshotFile: options.snapshotFile, ignore: options.ignore }));
}

/** Every path the subscription reported, complete once its sync point arrived. */
function liveSource(live: LiveWatcher): ChangeSource {
  return {
    changes: () => live.take(),
    recorded: () => Promise.resolve(),
    close: () => live.close(),
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
