import { isAbsolute, relative, sep } from "node:path";
import type ParcelWatcher from "@parcel/watcher";

let watcherModule: Promise<typeof ParcelWatcher> | undefined;
/** @parcel/watcher, loaded by the first watcher that looks, not by every command that bundles this module. */
export function parcelWatcher(): Promise<typeof ParcelWatcher> {
  watcherModule ??= import("@parcel/watcher").then((m) => m.default);
  return watcherModule;
}

/** Never part of "the workspace", at any depth; the shadow store excludes the same (src/workspace/shadow-git.ts). */
export const IGNORED_NAMES: ReadonlySet<string> = new Set([".git", ".orc", "node_modules"]);

/**
 * @parcel/watcher's `ignore` option: the names above at any depth, and `paths` (absolute, each with everything under
 * it). The names are one regular expression on the relative path: parcel tests every entry of a walk against each
 * pattern, and its glob patterns cost it about three times as long as a whole walk of a 100,000-file tree.
 */
export function parcelIgnore(paths: readonly string[]): (string | RegExp)[] {
  return [/(?:^|\/)(?:\.git|\.orc|node_modules)$/, ...paths];
}

/** True when `path` lies strictly inside `root`. */
export function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** `path` relative to `root`, `/`-separated. */
export function relativePath(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}
