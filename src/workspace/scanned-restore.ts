import { lstatSync, statfsSync } from "node:fs";
import { dirname, join } from "node:path";
import { removeFiles } from "./remove-files.js";
import { pointHeadAt } from "./store-head.js";

/** Runs git in the store (its options, the workspace as work tree); rejects when git fails. */
export type StoreGit = (args: readonly string[], stdin?: string) => Promise<{ readonly stdout: string; readonly stderr: string }>;

/**
 * Restores `tree` when nothing says what changed since the store's index was last brought up to date (`orc rollback`,
 * a restore after a failed recording): one `git status` finds every path where the workspace differs from the
 * index (modified, deleted, untracked) and where the index differs from `tree` (HEAD is set to `tree` first), and
 * only those paths are put back. It replaces recording the whole workspace (`add --all`) and then comparing: `add`
 * lists untracked files by reading every directory, where `status` may use git's untracked cache, which reads only
 * the directories whose mtime changed since the last status (a tenth of the time in a 100,000-file workspace). The
 * cache relies on directory mtimes, so it is used only on filesystems known to keep them (`mtimeKeepingFs`); the
 * store is orc's own, so the setting never reaches the user's repository.
 *
 * False when the plain way must do it: HEAD could not be moved (src/workspace/store-head.ts), git said something on
 * stderr (an entry it could not look at, such as a symlink loop where a tracked directory was, is left out of its
 * list), an untracked nested repository (listed as a directory), a path under something that is not a real directory,
 * or more paths than a command line takes. By then at most the untracked files standing where `tree` puts something
 * were removed, which the plain way removes too.
 */
export async function restoreByScan(git: StoreGit, store: { readonly storeDir: string; readonly workspace: string }, tree: string, maxPaths: number): Promise<boolean> {
  const head = pointHeadAt(store.storeDir, tree);
  if (head === undefined) return false;
  let restored = false;
  try {
    restored = await scanAndRestore(git, store.workspace, tree, maxPaths);
    return restored;
  } finally {
    // HEAD names `tree` only where git could use it: a tree missing from the store would break every later gc.
    if (!restored) head.putBack();
  }
}

/** restoreByScan() once HEAD is `tree`. */
async function scanAndRestore(git: StoreGit, workspace: string, tree: string, maxPaths: number): Promise<boolean> {
  // `--ignore-submodules=dirty`: a nested repository's recorded commit is compared, but git never runs inside it (its
  // own config, which an agent may have written, could name programs for git to run).
  const cache = `core.untrackedCache=${String(mtimeKeepingFs(workspace))}`;
  const status = await git(["-c", cache, "-c", "status.showUntrackedFiles=all", "status", "--porcelain", "-z", "--no-renames", "--ignore-submodules=dirty"]);
  if (status.stderr.trim() !== "") return false;
  const { fromTree, untracked } = parseStatus(status.stdout);
  if (untracked.some((path) => path.endsWith("/"))) return false;
  const strays = untracked.filter((path) => !fromTree.has(path));
  const paths = outermost(fromTree);
  if (paths.length > maxPaths || !strays.every((path) => underRealDirectories(workspace, path))) return false;
  // Untracked files where `tree` has a directory (or under a path it has as a file) go first, the rest after the
  // restore, so that a restore git refuses leaves them for the plain way to look at.
  const inTheWay = strays.filter((stray) => paths.some((path) => stray.startsWith(`${path}/`) || path.startsWith(`${stray}/`)));
  await removeFiles(workspace, inTheWay);
  if (paths.length > 0) {
    await git(restorePaths(tree), `${paths.join("\0")}\0`);
  }
  await removeFiles(workspace, strays.filter((path) => !inTheWay.includes(path)));
  return true;
}

/**
 * `git restore` of the paths on stdin (NUL-separated, literal) from `tree`, index and files. Without the index
 * preload: its threads would look at a handful of entries, and starting them costs a fifth of the command (5 of 25 ms
 * on a 100,000-file index).
 */
export function restorePaths(tree: string): string[] {
  return ["-c", "core.preloadIndex=false", "--literal-pathspecs", "restore", `--source=${tree}`, "--staged", "--worktree", "--pathspec-from-file=-", "--pathspec-file-nul"];
}

/**
 * `status --porcelain -z --no-renames`: `XY PATH` records. Every path but an untracked one is in the index or in
 * HEAD (`tree`), so `git restore` from `tree` puts it back; untracked ones are listed apart (`tree` may still hold
 * one: then it is also listed as deleted from the index, and restored).
 */
function parseStatus(out: string): { fromTree: Set<string>; untracked: string[] } {
  const fromTree = new Set<string>();
  const untracked: string[] = [];
  for (const record of out.split("\0")) {
    if (record.length < 4) continue;
    const path = record.slice(3);
    if (record.startsWith("??")) untracked.push(path);
    else fromTree.add(path);
  }
  return { fromTree, untracked };
}

/**
 * The listed paths without those under another listed one: a pathspec covers what lies under it, and naming both a
 * file of the tree and an index entry under it (a directory that became a file) makes `git restore` refuse.
 */
function outermost(paths: ReadonlySet<string>): string[] {
  return [...paths].filter((path) => {
    for (let dir = dirname(path); dir !== "."; dir = dirname(dir)) if (paths.has(dir)) return false;
    return true;
  });
}

/** Every directory above `path` inside the workspace is a directory, not a link to somewhere else. */
function underRealDirectories(workspace: string, path: string): boolean {
  for (let dir = dirname(path); dir !== "."; dir = dirname(dir)) {
    try {
      if (!lstatSync(join(workspace, dir)).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Local Linux filesystems that update a directory's mtime whenever an entry is added or removed, which git's
 * untracked cache relies on (`statfs` magic numbers); on any other (network, FUSE) git reads every directory.
 */
const MTIME_KEEPING = new Set([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
]);

function mtimeKeepingFs(dir: string): boolean {
  try {
    return MTIME_KEEPING.has(statfsSync(dir).type);
  } catch {
    return false;
  }
}
