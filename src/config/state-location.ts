import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Failure } from "../core/failure.js";
import type { StateSource } from "../core/pipeline.js";
import { err, ok, type Result } from "../core/result.js";

/** The state directory orc used inside the project before it moved out of the agents' reach; still honoured. */
export const LEGACY_STATE_DIR = ".orc";
/** Written into a default state directory: which project it belongs to, for a human looking at the folder. */
export const PROJECT_NOTE = "project.json";

export interface StateLocation {
  readonly dir: string;
  readonly source: StateSource;
}

export interface StateLocationInput {
  /** The project root (absolute): the directory of orchestrator.yaml, else the current directory. */
  readonly root: string;
  /** ORC_STATE_DIR is relative to it. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `state:` of orchestrator.yaml, already resolved against the root. */
  readonly configured?: string | undefined;
}

/**
 * Where orc keeps a project's state: ORC_STATE_DIR, else `state:`, else an existing `<root>/.orc/state.db` (so a
 * project's history from before the move stays where it is), else the default outside the project, where an agent
 * working in the project cannot erase it.
 */
export function locateState(input: StateLocationInput): Result<StateLocation, Failure> {
  const fromEnv = input.env.ORC_STATE_DIR;
  if (fromEnv !== undefined && fromEnv !== "") return ok({ dir: resolve(input.cwd, fromEnv), source: "env" });
  if (input.configured !== undefined) return ok({ dir: input.configured, source: "config" });
  const legacy = join(input.root, LEGACY_STATE_DIR);
  if (existsSync(join(legacy, "state.db"))) return ok({ dir: legacy, source: "legacy" });
  const dir = defaultStateDir(input.root, input.env);
  if (dir === undefined) {
    return err({
      reason: "state",
      message: "nowhere to keep orc's state: HOME is not set to an absolute path (nor XDG_STATE_HOME); set ORC_STATE_DIR to a directory for it",
    });
  }
  return ok({ dir, source: "default" });
}

/** `<state home>/orc/projects/<name>-<hash>`; undefined without an absolute XDG_STATE_HOME or HOME. */
export function defaultStateDir(root: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const base = stateHome(env);
  return base === undefined ? undefined : join(base, "orc", "projects", projectKey(root));
}

/** `$XDG_STATE_HOME`, else `$HOME/.local/state`; relative values are ignored, as the XDG spec asks. */
function stateHome(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return xdg;
  const home = env.HOME;
  return home !== undefined && isAbsolute(home) ? join(home, ".local", "state") : undefined;
}

/**
 * `<name>-<hash>`: the root's folder name (readable) and the first 12 hex digits of the sha256 of its real path
 * (unique), so two checkouts named alike get two directories and a symlinked path finds the same one.
 */
export function projectKey(root: string): string {
  const real = realOrResolved(root);
  const name = basename(real).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+|-+$/g, "").slice(0, 48);
  const hash = createHash("sha256").update(real).digest("hex").slice(0, 12);
  return `${name === "" ? "project" : name}-${hash}`;
}

/**
 * True when `dir` is the project root or lies under it: an agent working in the project can delete it. Compared by
 * real paths (of the nearest existing ancestor, for a directory not created yet).
 */
export function insideProject(dir: string, root: string): boolean {
  const rel = relative(realOrResolved(root), realOrResolved(dir));
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The text of `project.json`. */
export function projectNote(root: string): string {
  return `${JSON.stringify({ root: realOrResolved(root), note: "orc's state (runs, checkpoints) for this project" }, null, 2)}\n`;
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
function realOrResolved(path: string): string {
  const absolute = resolve(path);
  const missing: string[] = [];
  for (let at = absolute; ; at = dirname(at)) {
    try {
      return join(realpathSync(at), ...missing.reverse());
    } catch {
      if (dirname(at) === at) return absolute;
      missing.push(basename(at));
    }
  }
}
