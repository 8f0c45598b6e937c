import picomatch from "picomatch";
import type { FileChange } from "../core/events.js";

/** The changed paths that match any of the task's `protect:` globs (dotfiles included: `.github/**` must match). */
export function protectedTouched(globs: readonly string[], files: readonly FileChange[]): string[] {
  if (globs.length === 0) return [];
  const isProtected = picomatch([...globs], { dot: true });
  return files.filter((f) => isProtected(f.path)).map((f) => f.path);
}
