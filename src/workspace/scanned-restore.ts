import { lstatSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

/** Runs git in the store (its options, the workspace as work tree); rejects when git fails. */
export type StoreGit = (args: readonly string[], stdin?: string) => Promise<string>;

/**
 * Restores `tree` when nothing says what changed since the store's index was last brought up to date (`orc rollback`,
 * a restore after a failed recording): one `git status` finds every path where the workspace differs from the
 * index (modified, deleted, untracked) and where the index differs from `tree` (HEAD is set to `tree` first), and
 * only those paths are put back. It replaces recording the whole workspace (`add --all`) and then comparing: `add`
 * lists untracked files by reading every directory, where `status` may use git's untracked cache, which reads only
 * the directories whose mtime changed since the last status (a tenth of the time in a 100,000-file workspace). The
 * cache relies on directory mtimes, as `git update-index --test-untracked-cache` checks; the store is orc's own, so
 * the setting never reaches the user's repository.
 *
 * False, having changed nothing, when the plain way must do it: an untracked nested repository (git lists it as a
 * directory), a path under something that is not a real directory, or more paths than a command line takes.
 */
export async function restoreByScan(git: StoreGit, workspace: string, tree: string, maxPaths: number): Promise<boolean> {
  const commit = (await git(["commit-tree", tree, "-m", "orc: restore base"])).trim();
  await git(["update-ref", "--no-deref", "HEAD", commit]);
  // `--ignore-submodules=dirty`: a nested repository's recorded commit is compared, but git never runs inside it (its
  // own config, which an agent may have written, could name programs for git to run).
  const status = await git(["-c", "core.untrackedCache=true", "-c", "status.showUntrackedFiles=all", "status", "--porcelain", "-z", "--no-renames", "--ignore-submodules=dirty"]);
  const { fromTree, untracked } = parseStatus(status);
  if (untracked.some((path) => path.endsWith("/"))) return false;
  const strays = untracked.filter((path) => !fromTree.has(path));
  if (fromTree.size > maxPaths || !strays.every((path) => underRealDirectories(workspace, path))) return false;
  // Files created since the last record go first: one may stand where `tree` has a directory.
  for (const path of strays) removeWithEmptyParents(workspace, path);
  if (fromTree.size > 0) {
    await git(["--literal-pathspecs", "restore", `--source=${tree}`, "--staged", "--worktree", "--pathspec-from-file=-", "--pathspec-file-nul"], `${[...fromTree].join("\0")}\0`);
  }
  return true;
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

/** Removes a file and then each directory above it that it leaves empty, as git does when it removes a path. */
function removeWithEmptyParents(workspace: string, path: string): void {
  rmSync(join(workspace, path), { force: true });
  for (let dir = dirname(path); dir !== "."; dir = dirname(dir)) {
    try {
      rmdirSync(join(workspace, dir));
    } catch {
      return; // not empty (or gone): the directories above it stay too
    }
  }
}
