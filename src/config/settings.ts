import { dirname, join, resolve } from "node:path";
import type { Diagnostic } from "../core/diagnostic.js";
import type { Failure } from "../core/failure.js";
import type { Settings } from "../core/pipeline.js";
import { err, ok, type Result } from "../core/result.js";
import { DEFAULT_AGENT, mergeAgent, readAgent } from "./agent.js";
import { findConfig } from "./find-config.js";
import { readLlm } from "./llm.js";
import type { Scope } from "./scope.js";
import { checkShape } from "./shape.js";
import { resolveUses } from "./packs/uses.js";
import { checkVersion } from "./version.js";
import { readYamlFile, type YamlFile } from "./yaml-file.js";

export const DEFAULT_CONCURRENCY = 1;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const STATE_DIR_NAME = ".orc";

export interface SettingsOptions {
  readonly cwd: string;
  /** `--config FILE`, relative to `cwd`; otherwise orchestrator.yaml is looked for in `cwd` and above. */
  readonly configFile?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Project settings from orchestrator.yaml; without one, every field has its default and the root is `cwd`. */
export function loadSettings(options: SettingsOptions): Result<Settings, Failure> {
  const file = options.configFile === undefined ? findConfig(options.cwd) : resolve(options.cwd, options.configFile);
  if (file === undefined) {
    const root = resolve(options.cwd);
    return ok({
      file: undefined,
      root,
      stateDir: stateDirFrom(options, undefined) ?? join(root, STATE_DIR_NAME),
      agent: DEFAULT_AGENT,
      concurrency: DEFAULT_CONCURRENCY,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      uses: [],
    });
  }
  const { settings, diagnostics } = analyseSettings(readYamlFile(file), options);
  if (settings === undefined) return err({ reason: "config", diagnostics });
  return ok(settings);
}

/** Checks and reads a parsed orchestrator.yaml. */
export function analyseSettings(
  parsed: YamlFile,
  options: Pick<SettingsOptions, "cwd" | "env">,
): { readonly settings: Settings | undefined; readonly diagnostics: Diagnostic[] } {
  const { out, value, file } = parsed;
  if (value === undefined || !checkShape("orchestrator", value, out)) return { settings: undefined, diagnostics: out.list() };
  const root = dirname(file);
  const scope: Scope = { out, root: value, dirs: [root] };
  checkVersion(value.version, out);
  const agent = mergeAgent(DEFAULT_AGENT, readAgent(value.agent, ["agent"], scope));
  const uses = resolveUses(value.uses, scope);
  const llm = readLlm(value.llm, root, scope);
  if (out.hasErrors()) return { settings: undefined, diagnostics: out.list() };
  const state = typeof value.state === "string" ? value.state : value.state?.dir;
  return {
    settings: {
      file,
      root,
      stateDir: stateDirFrom(options, state === undefined ? undefined : resolve(root, state)) ?? join(root, STATE_DIR_NAME),
      agent,
      concurrency: value.concurrency ?? DEFAULT_CONCURRENCY,
      maxAttempts: value.max_attempts ?? DEFAULT_MAX_ATTEMPTS,
      uses,
      llm,
      ...(value.notify === undefined ? {} : { notify: { ...value.notify } }),
    },
    diagnostics: out.list(),
  };
}

/** ORC_STATE_DIR (relative to cwd) wins over `state:` in orchestrator.yaml. */
function stateDirFrom(options: Pick<SettingsOptions, "cwd" | "env">, configured: string | undefined): string | undefined {
  const fromEnv = options.env.ORC_STATE_DIR;
  return fromEnv !== undefined && fromEnv !== "" ? resolve(options.cwd, fromEnv) : configured;
}
