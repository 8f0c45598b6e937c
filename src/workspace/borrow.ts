import { constants } from "node:fs";
import { copyFile, link, lstat, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";

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
 * about what `git status` costs instead of hashing every file: the store takes the user's objects as hard links
 * (packs and loose objects: git never rewrites an object file, so a link is a copy that costs nothing) and its index
 * starts as a copy of `.git/index`, whose stat data lets `git add --all` skip every file unchanged since the user's
 * git last looked. Nothing in `.git` is written. Links rather than `objects/info/alternates`: the store must outlive
 * whatever happens to `.git`, an agent's `rm -rf .git` or the user's `git gc --prune=now` included. Where the state
 * directory is on another file system than the workspace, the objects are copied instead (slower, same result).
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
  if (!(await borrowable(userGit))) return false;
  try {
    await copyFile(join(userGit, "index"), index);
    // The copy keeps the original's time (to the millisecond, never later), so that the entries git counts as
    // "racily clean" (written in the same tick as the index) are still checked by content.
    const { atime, mtime } = await stat(join(userGit, "index"));
    await utimes(index, atime, mtime);
    await linkObjects(join(userGit, "objects"), join(options.storeDir, "objects"));
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
    // Objects already linked stay: they are valid objects, and git ignores the ones no checkpoint reaches.
    await rm(index, { force: true });
    return false;
  }
}

const LOOSE_DIR = /^[0-9a-f]{2}$/;
const PACK_FILE = /\.(pack|idx|rev)$/;

/** Every pack and loose object of `from` (a `.git/objects`) into `to`, as hard links, or copies across file systems. */
async function linkObjects(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (!entry.isDirectory() || !(LOOSE_DIR.test(entry.name) || entry.name === "pack")) continue;
    const files = (await readdir(join(from, entry.name))).filter((name) => entry.name !== "pack" || PACK_FILE.test(name));
    if (files.length === 0) continue;
    await mkdir(join(to, entry.name), { recursive: true });
    for (const name of files) await linkOrCopy(join(from, entry.name, name), join(to, entry.name, name));
    // The store's gc must leave the user's packs as they are: repacking them would copy the user's whole history,
    // object by object, into the store.
    for (const name of files.filter((n) => n.endsWith(".pack"))) await writeFile(join(to, entry.name, name.replace(/\.pack$/, ".keep")), "linked from the user's repository\n");
  }
}

async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "EXDEV" && code !== "EPERM") throw error;
    await copyFile(source, target, constants.COPYFILE_FICLONE);
  }
}

async function borrowable(userGit: string): Promise<boolean> {
  if (process.platform === "win32") return false; // git for Windows converts line ends by default (autocrlf)
  try {
    if (!(await lstat(userGit)).isDirectory() || !(await lstat(join(userGit, "objects"))).isDirectory()) return false;
    if (!(await lstat(join(userGit, "index"))).isFile()) return false;
    const config = await readFile(join(userGit, "config"), "utf8").catch(() => "");
    if (/^\s*(objectformat|autocrlf|eol|splitindex|partialclone)\s*=/im.test(config)) return false;
    // Objects kept in another repository (`clone --shared`, `--reference`) or fetched on demand (a partial clone)
    // are not in `.git/objects` to link.
    if (await lstat(join(userGit, "objects", "info", "alternates")).then(() => true, () => false)) return false;
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
