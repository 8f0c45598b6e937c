/**
 * What a workspace holds, per path: type, mode, size and modification time. The host side is walked with lstat; the
 * remote side is `find -printf` output (the wrapper writes it after each process). Comparing two manifests of the same
 * side says what changed since the last sync; the two sides are never compared with each other.
 */
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

export type EntryType = "f" | "d" | "l";

/** path (relative, `/`-separated) → a string that changes when the entry does. */
export type Manifest = Map<string, { readonly type: EntryType; readonly stamp: string }>;

/**
 * Walks the host workspace. `skip` holds top-level-relative paths left out with everything under them (`.git`,
 * orc's state directory when it lies inside the workspace). Anything that is not a file, directory or link is ignored.
 */
export function walkHost(root: string, skip: ReadonlySet<string>): Manifest {
  const out: Manifest = new Map();
  const visit = (dir: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // vanished or unreadable while walking: it is not synced this time
    }
    for (const name of names) {
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      if (skip.has(rel)) continue;
      let st;
      try {
        st = lstatSync(join(dir, name));
      } catch {
        continue;
      }
      const type: EntryType | undefined = st.isFile() ? "f" : st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : undefined;
      if (type === undefined) continue;
      // A directory's own mtime changes with its entries, which are compared themselves.
      out.set(rel, { type, stamp: type === "d" ? String(st.mode) : `${String(st.mode)} ${String(st.size)} ${String(st.mtimeMs)}` });
      if (type === "d") visit(join(dir, name), rel);
    }
  };
  visit(root, "");
  return out;
}

function isEntryType(type: string | undefined): type is EntryType {
  return type === "f" || type === "d" || type === "l";
}

/** Parses `find . -printf '%y %m %s %T@ %P\0'`: type, octal mode, size, mtime, path. Other types (fifos…) are dropped. */
export function parseRemote(text: string): Manifest {
  const out: Manifest = new Map();
  for (const record of text.split("\0")) {
    const m = /^([fdl]) (\d+) (\d+) (\S+) (.+)$/s.exec(record);
    if (m === null) continue;
    const [, type, mode = "", size = "", mtime = "", path = ""] = m;
    if (!isEntryType(type)) continue;
    out.set(path, { type, stamp: type === "d" ? mode : `${mode} ${size} ${mtime}` });
  }
  return out;
}

export interface ManifestDiff {
  /** New or changed paths, parents before children. */
  readonly changed: string[];
  /** Paths gone, children before parents. */
  readonly deleted: string[];
}

export function diffManifests(before: Manifest, after: Manifest): ManifestDiff {
  const changed: string[] = [];
  const deleted: string[] = [];
  for (const [path, entry] of after) {
    const old = before.get(path);
    if (old === undefined || old.type !== entry.type || old.stamp !== entry.stamp) changed.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) deleted.push(path);
  changed.sort();
  deleted.sort().reverse();
  return { changed, deleted };
}

/** The find command line the wrapper and the sync use: every entry under `.`, `.git` left out. */
export const REMOTE_FIND = `find . -path ./.git -prune -o ! -path . -printf '%y %m %s %T@ %P\\0'`;
