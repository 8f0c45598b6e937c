import { createRequire } from "node:module";
import type Picomatch from "picomatch";

let library: typeof Picomatch | undefined;

/**
 * A matcher for `globs`, dotfiles included (`.github/**` must match). picomatch is loaded on first use, not with orc:
 * most runs have no `protect:` globs and no rule that reads them (~3 ms of start-up saved).
 */
export function globMatcher(globs: readonly string[]): (path: string) => boolean {
  library ??= createRequire(import.meta.url)("picomatch") as typeof Picomatch;
  return library([...globs], { dot: true });
}
