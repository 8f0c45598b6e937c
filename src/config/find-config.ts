import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const CONFIG_FILE = "orchestrator.yaml";

/** The nearest orchestrator.yaml in `dir` or above it, or undefined. */
export function findConfig(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, CONFIG_FILE);
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

/** The settings file that applies: `--config FILE` (relative to `cwd`), else the nearest orchestrator.yaml, if any. */
export function configFileFor(cwd: string, configFile: string | undefined): string | undefined {
  return configFile === undefined ? findConfig(cwd) : resolve(cwd, configFile);
}
