import { dirname, resolve } from "node:path";
import type { Diagnostic } from "../core/diagnostic.js";
import type { Failure } from "../core/failure.js";
import type { Settings } from "../core/pipeline.js";
import { err, ok, type Result } from "../core/result.js";
import { mergeAgent, readAgent } from "./agent.js";
import { configFileFor } from "./find-config.js";
import { locateState } from "./state-location.js";
import { readLlm } from "./llm.js";
import { readTransport } from "./transport.js";
import type { Scope } from "./scope.js";
import { checkShape } from "./shape.js";
import { resolveUses } from "./packs/uses.js";
import { checkVersion } from "./version.js";
import { readYamlFile, type YamlFile } from "./yaml-file.js";
import { DEFAULT_AGENT, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, settingsWithoutFile } from "./settings-defaults.js";

export interface SettingsOptions {
  readonly cwd: string;
  /** `--config FILE`, relative to `cwd`; otherwise orchestrator.yaml is looked for in `cwd` and above. */
  readonly configFile?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Project settings from orchestrator.yaml; without one, every field has its default and the root is `cwd`. Fails
 * also when there is nowhere to keep state (no HOME and no override).
 */
export function loadSettings(options: SettingsOptions): Result<Settings, Failure> {
  const file = configFileFor(options.cwd, options.configFile);
  if (file === undefined) return settingsWithoutFile(options);
  const { settings, diagnostics } = analyseSettings(readYamlFile(file));
  if (settings === undefined) return err({ reason: "config", diagnostics });
  const { configuredState, ...fields } = settings;
  const state = locateState({ root: fields.root, cwd: options.cwd, env: options.env, configured: configuredState });
  if (!state.ok) return state;
  return ok({ ...fields, stateDir: state.value.dir, stateSource: state.value.source });
}

/** Settings as orchestrator.yaml gives them: where state goes depends on the environment too (`loadSettings`). */
export type ReadSettings = Omit<Settings, "stateDir" | "stateSource"> & {
  /** `state:`, resolved against the root. */
  readonly configuredState?: string;
};

/** Checks and reads a parsed orchestrator.yaml. */
export function analyseSettings(parsed: YamlFile): { readonly settings: ReadSettings | undefined; readonly diagnostics: Diagnostic[] } {
  const { out, value, file } = parsed;
  if (value === undefined || !checkShape("orchestrator", value, out)) return { settings: undefined, diagnostics: out.list() };
  const root = dirname(file);
  const scope: Scope = { out, root: value, dirs: [root] };
  checkVersion(value.version, out);
  const agent = mergeAgent(DEFAULT_AGENT, readAgent(value.agent, ["agent"], scope));
  const uses = resolveUses(value.uses, scope);
  const llm = readLlm(value.llm, root, scope);
  const transport = readTransport(value.transport, ["transport"], scope);
  if (out.hasErrors()) return { settings: undefined, diagnostics: out.list() };
  const state = typeof value.state === "string" ? value.state : value.state?.dir;
  return {
    settings: {
      file,
      root,
      ...(state === undefined ? {} : { configuredState: resolve(root, state) }),
      agent,
      concurrency: value.concurrency ?? DEFAULT_CONCURRENCY,
      maxAttempts: value.max_attempts ?? DEFAULT_MAX_ATTEMPTS,
      uses,
      llm,
      ...(value.notify === undefined ? {} : { notify: { ...value.notify } }),
      ...(transport === undefined ? {} : { transport }),
    },
    diagnostics: out.list(),
  };
}
