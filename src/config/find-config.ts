import { statSync } from "node:fs";
import { dirname, join } from "node:path";

export const CONFIG_FILE = "orchestrator.yaml";

/** The nearest orchestrator.yaml in `dir` or above it, or undefined. */
export function findConfig(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, CONFIG_FILE);
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return candidate;
    if (dirname(at) === at) return undefined;
  }
}
