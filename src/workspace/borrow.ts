import { copyFile, lstat, mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Runs git in the store (the caller's isolation and serialisation); resolves to stdout. */
export type GitRun = (args: readonly string[], stdin?: string) => Promise<string>;

export interface BorrowOptions {
  readonly storeDir: string;
  readonly workspace: string;
  /** Paths (relative, `/`-separated) the store never records: dropped from the borrowed index. */
  readonly excluded: (path: string) => boolean;
  readonly git: GitRun;
}

/**
 * Starts a new, empty store from the workspace's own git repository, read-only, so that the first checkpoint costs
 * about what `git status` costs instead of hashing every file: the store borrows the user's objects
 * (`objects/info/alternates` names `.git/objects`) and its index starts as a copy of `.git/index`, whose stat data
 * lets `git add --all` skip every file unchanged since the user's git last looked. Nothing in `.git` is written;
 * git may refresh the modification time of a user's object file or pack when the store writes an object that file
 * already holds (git's "freshening", which keeps an object in use from expiring).
 *
 * What a checkpoint then relies on: objects of files unchanged since the user's index (the user's blobs, and trees
 * orc builds from them) are read from the user's repository; everything orc writes (files that changed, untracked
 * files, new trees, commits) is in the store. The user's `git gc` keeps whatever its branches, tags, reflogs and
 * index reach, and unreachable objects for gc.pruneExpire (2 weeks) after their last use; a checkpoint whose borrowed
 * objects the user prunes after that (or removes with `--prune=now`, or by deleting `.git`) can no longer be
 * diffed or restored.
 *
 * Not borrowed (an empty store is used instead): `.git` that is a file (worktrees, submodules); Windows; a
 * repository whose config sets an object format, `autocrlf`, `eol` or a split index; an index with skip-worktree
 * or assume-unchanged entries (sparse checkouts); attributes that convert content (`filter`, `ident`,
 * `working-tree-encoding`, e.g. Git LFS), since the user's blobs would then differ from what this store records
 * for the same bytes. Files the user tracks although `.gitignore` matches them stay recorded, as in the user's git;
 * orc's own exclusions are dropped from the borrowed index.
 */
export async function borrowUserRepository(options: BorrowOptions): Promise<boolean> {
  const userGit = join(options.workspace, ".git");
  const index = join(options.storeDir, "index");
  const alternates = join(options.storeDir, "objects", "info", "alternates");
  if (!(await borrowable(userGit))) return false;
  try {
    await copyFile(join(userGit, "index"), index);
    // The copy keeps the original's time (to the millisecond, never later), so that the entries git counts as
    // "racily clean" (written in the same tick as the index) are still checked by content.
    const { atime, mtime } = await stat(join(userGit, "index"));
    await utimes(index, atime, mtime);
    await mkdir(join(options.storeDir, "objects", "info"), { recursive: true });
    // Relative, so the store still finds them when the project (with a state directory inside it) is moved.
    await writeFile(alternates, `${relative(join(options.storeDir, "objects"), join(userGit, "objects")).split(sep).join("/")}\n`);
    const entries = parseListing(await options.git(["ls-files", "-z", "-v"]));
    if (entries.some((e) => e.tag !== "H" && e.tag !== "M")) throw new Error("skip-worktree or assume-unchanged entries");
    const attributes = entries.filter((e) => e.path.endsWith("/.gitattributes")).map((e) => e.path);
    if (await convertsContent(options.workspace, [".gitattributes", ...attributes])) {
      throw new Error("content-converting attributes");
    }
    const dropped = entries.filter((e) => options.excluded(e.path)).map((e) => `${e.path}\0`);
    if (dropped.length > 0) await options.git(["update-index", "--force-remove", "-z", "--stdin"], dropped.join(""));
    return true;
  } catch {
    await rm(index, { force: true });
    await rm(alternates, { force: true });
    return false;
  }
}

async function borrowable(userGit: string): Promise<boolean> {
  if (process.platform === "win32") return false; // git for Windows converts line ends by default (autocrlf)
  try {
    if (!(await lstat(userGit)).isDirectory() || !(await lstat(join(userGit, "objects"))).isDirectory()) return false;
    if (!(await lstat(join(userGit, "index"))).isFile()) return false;
    const config = await readFile(join(userGit, "config"), "utf8").catch(() => "");
    if (/^\s*(objectformat|autocrlf|eol|splitindex)\s*=/im.test(config)) return false;
    const attributes = await readFile(join(userGit, "info", "attributes"), "utf8").catch(() => "");
    return !convertingAttribute(attributes);
  } catch {
    return false;
  }
}

interface Entry {
  readonly tag: string;
  readonly path: string;
}

/** `ls-files -z -v`: `<tag> <path>\0` per entry. */
function parseListing(out: string): Entry[] {
  return out
    .split("\0")
    .filter((record) => record.length > 2)
    .map((record) => ({ tag: record.charAt(0), path: record.slice(2) }));
}

/** Whether any of these gitattributes files (the top one, tracked or not, and the tracked ones below) converts. */
async function convertsContent(workspace: string, paths: readonly string[]): Promise<boolean> {
  for (const path of paths) {
    if (convertingAttribute(await readFile(join(workspace, path), "utf8").catch(() => ""))) return true;
  }
  return false;
}

/** True when a gitattributes text sets an attribute under which git stores other bytes than the file holds. */
function convertingAttribute(text: string): boolean {
  for (const line of text.split("\n")) {
    const [pattern, ...attributes] = line.trim().split(/\s+/);
    if (pattern === undefined || pattern === "" || pattern.startsWith("#")) continue;
    if (attributes.some((a) => a === "ident" || a.startsWith("filter=") || a.startsWith("working-tree-encoding="))) return true;
  }
  return false;
}
