/**
 * Settings where no orchestrator.yaml applies. Kept apart from reading one (src/config/settings.ts), so that a command
 * run in a project without the file never loads the YAML parser and the schema checks (about 15 ms of every start).
 */
import { resolve } from "node:path";
import type { Failure } from "../core/failure.js";
import type { AgentSpec, Settings } from "../core/pipeline.js";
import { ok, type Result } from "../core/result.js";
import { locateState } from "./state-location.js";

export const DEFAULT_CONCURRENCY = 1;
export const DEFAULT_MAX_ATTEMPTS = 3;

export const DEFAULT_AGENT: AgentSpec = {
  kind: "command",
  timeoutMs: 30 * 60_000,
  inactivityTimeoutMs: 10 * 60_000,
  env: {},
  options: {},
};

/** Every field at its default, the root `cwd`; fails only when there is nowhere to keep state. */
export function settingsWithoutFile(options: { readonly cwd: string; readonly env: Readonly<Record<string, string | undefined>> }): Result<Settings, Failure> {
  const root = resolve(options.cwd);
  const state = locateState({ root, cwd: options.cwd, env: options.env });
  if (!state.ok) return state;
  return ok({
    file: undefined,
    root,
    agent: DEFAULT_AGENT,
    concurrency: DEFAULT_CONCURRENCY,
    maxAttempts: DEFAULT_MAX_ATTEMPTS,
    uses: [],
    stateDir: state.value.dir,
    stateSource: state.value.source,
  });
}
