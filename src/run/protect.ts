import type { FileChange } from "../core/events.js";
import { globMatcher } from "../core/glob.js";

/** The changed paths that match any of the task's `protect:` globs (dotfiles included: `.github/**` must match). */
export function protectedTouched(globs: readonly string[], files: readonly FileChange[]): string[] {
  if (globs.length === 0) return [];
  const isProtected = globMatcher(globs);
  return files.filter((f) => isProtected(f.path)).map((f) => f.path);
}
