/**
 * Finding a workspace's git directory and fingerprinting the files in it that change what git does (config, hooks,
 * info files), by reading only: nothing here writes, locks or runs anything.
 */
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";

export interface GitDirs {
  /** The git directory: `.git`, or the one a `.git` file names (a worktree's `.git/worktrees/NAME`, a submodule's). */
  readonly gitDir: string;
  /** Where config, hooks, info and refs are shared from: the main `.git` of a worktree, else `gitDir`. */
  readonly commonDir: string;
}

export type Located = { readonly ok: true; readonly dirs: GitDirs } | { readonly ok: false; readonly problem: string };

/** The workspace's git directories; undefined when the workspace has no `.git` at all (it is not a repository). */
export async function locateGitDir(workspaceDir: string): Promise<Located | undefined> {
  const dotGit = join(workspaceDir, ".git");
  const info = await stat(dotGit).catch(() => undefined);
  if (info === undefined) return undefined;
  if (info.isDirectory()) return { ok: true, dirs: { gitDir: dotGit, commonDir: await commonDirOf(dotGit) } };
  // A `.git` file (a linked worktree, a submodule): `gitdir: PATH`, relative to the workspace.
  const text = await readFile(dotGit, "utf8").catch(() => "");
  const named = /^gitdir: *(.+?)\s*$/m.exec(text)?.[1];
  if (named === undefined) return { ok: false, problem: ".git is a file that names no git directory" };
  const gitDir = isAbsolute(named) ? named : resolve(workspaceDir, named);
  if (!(await isDirectory(gitDir))) return { ok: false, problem: `.git names ${gitDir}, which is not a directory` };
  return { ok: true, dirs: { gitDir, commonDir: await commonDirOf(gitDir) } };
}

async function commonDirOf(gitDir: string): Promise<string> {
  const named = (await readFile(join(gitDir, "commondir"), "utf8").catch(() => "")).trim();
  if (named === "") return gitDir;
  const commonDir = isAbsolute(named) ? named : resolve(gitDir, named);
  return (await isDirectory(commonDir)) ? commonDir : gitDir;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** Files above this size are fingerprinted by size and mtime: a config or a hook is a few KiB; reading a huge one is not worth it. */
const MAX_HASHED_BYTES = 1024 * 1024;

/** A fingerprint of one file's content (a symlink's target for a symlink); undefined when there is no such file. */
export async function fingerprint(path: string): Promise<string | undefined> {
  return (await printAndMode(path))?.print;
}

async function printAndMode(path: string): Promise<{ print: string; mode: number } | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined || info.isDirectory()) return undefined;
  if (info.isSymbolicLink()) return { print: `symlink:${await readlink(path).catch(() => "?")}`, mode: 0o777 };
  if (info.size > MAX_HASHED_BYTES) return { print: `large:${String(info.size)}:${String(info.mtimeMs)}`, mode: info.mode };
  const content = await readFile(path).catch(() => undefined);
  return content === undefined ? undefined : { print: createHash("sha256").update(content).digest("hex"), mode: info.mode };
}

export interface HookPrint {
  readonly sha256: string;
  /** git runs only an executable hook. */
  readonly executable: boolean;
}

/** Hooks are a handful of files; a directory this crowded is fingerprinted by its first entries in name order. */
const MAX_HOOK_FILES = 256;
const MAX_HOOK_DEPTH = 3;

/** Every file under `hooksDir` (relative path → fingerprint), `*.sample` left out: git ships them and never runs them. */
export async function fingerprintHooks(hooksDir: string): Promise<Record<string, HookPrint>> {
  const prints: Record<string, HookPrint> = {};
  let count = 0;
  const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (count >= MAX_HOOK_FILES) return;
      const path = join(dir, entry.name);
      const name = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) {
        if (depth < MAX_HOOK_DEPTH) await walk(path, name, depth + 1);
        continue;
      }
      if (entry.name.endsWith(".sample")) continue;
      const file = await printAndMode(path);
      if (file === undefined) continue;
      count++;
      prints[name] = { sha256: file.print, executable: (file.mode & 0o111) !== 0 };
    }
  };
  await walk(hooksDir, "", 1);
  return prints;
}

/** What HEAD holds: the ref it names (`refs/heads/main`) or, detached, an object id; undefined when unreadable. */
export async function readHead(gitDir: string): Promise<string | undefined> {
  const text = (await readFile(join(gitDir, "HEAD"), "utf8").catch(() => "")).trim();
  const symbolic = /^ref: *(refs\/\S+)$/.exec(text)?.[1];
  // The reftable backend leaves a stub HEAD naming `refs/heads/.invalid`: the real one is not a file to read.
  if (symbolic !== undefined) return symbolic === "refs/heads/.invalid" ? undefined : symbolic;
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text) ? text : undefined;
}
