/**
 * Writes what came back from the remote into the host workspace, defensively: the remote is where agent-written code
 * ran, so a path is refused when it is absolute, climbs with `..`, lands in `.git` or orc's state, or passes through a
 * symbolic link on the host (a link the agent planted must not carry a later write outside the workspace).
 */
import { chmodSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class UnsafePathError extends Error {}

/**
 * The host path for a workspace-relative path from the remote, with every parent a real directory: made if missing
 * when `create`, else (a deletion) undefined, as there is nothing to delete.
 */
export function hostTarget(root: string, rel: string, skip: ReadonlySet<string>, create = true): string | undefined {
  const parts = rel.split("/");
  if (rel === "" || rel.startsWith("/") || parts.some((p) => p === ".." || p === "." || p === "")) throw new UnsafePathError(`unsafe path from the remote: ${JSON.stringify(rel)}`);
  for (let i = 1; i <= parts.length; i++) {
    if (skip.has(parts.slice(0, i).join("/"))) throw new UnsafePathError(`the remote tried to change ${rel}, which orc does not bring back`);
  }
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const st = lstatOrUndefined(dir);
    if (st === undefined) {
      if (!create) return undefined;
      mkdirSync(dir);
    } else if (!st.isDirectory()) {
      if (!create) return undefined;
      // A file or link where the remote has a directory: the remote's tree wins, but never by following a link.
      rmSync(dir, { force: true });
      mkdirSync(dir);
    }
  }
  return join(root, rel);
}

export function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Replaces whatever is at `path` (a link is removed, never followed) with a file of `content` and `mode`. */
export function putFile(path: string, content: Buffer, mode: number): void {
  const st = lstatOrUndefined(path);
  if (st !== undefined && !st.isFile()) rmSync(path, { recursive: true, force: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}

export function putDir(path: string, mode: number): void {
  const st = lstatOrUndefined(path);
  if (st !== undefined && !st.isDirectory()) rmSync(path, { force: true });
  if (st === undefined || !st.isDirectory()) mkdirSync(path);
  chmodSync(path, mode);
}

export function putLink(path: string, target: string): void {
  rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
}
