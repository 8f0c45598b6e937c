/**
 * Where an agent CLI is: on PATH, else in a project's `node_modules/.bin` (CLIs installed as dev dependencies, the
 * way orc's own tests pin Claude Code and OpenCode). Shared by the adapters and `orc doctor`, so doctor reports
 * exactly the executable a run would start.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/** The CLI each coding-agent kind starts when `agent.run` does not name one. */
export const AGENT_EXECUTABLES: Readonly<Record<string, string>> = {
  "claude-code": "claude",
  codex: "codex",
  "qwen-code": "qwen",
  opencode: "opencode",
  aider: "aider",
};

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of `name` (a bare name or a path), or undefined when nothing executable is found. */
export function findExecutable(name: string, env: Readonly<Record<string, string | undefined>>, projectDirs: readonly string[]): string | undefined {
  if (name.includes("/")) {
    const path = isAbsolute(name) ? name : resolve(projectDirs[0] ?? ".", name);
    return executable(path) ? path : undefined;
  }
  const dirs = [...(env.PATH ?? "").split(delimiter).filter((d) => d !== ""), ...projectDirs.map((d) => join(d, "node_modules", ".bin"))];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}
