import { resolve } from "node:path";
import type { Pipeline, Settings } from "../core/pipeline.js";
import { loadPipeline } from "../config/index.js";
import { buildPlan, type Plan } from "../plan/plan.js";
import { settingsFor, type GlobalOptions } from "./context.js";

import { withRules } from "./packs.js";
import { fail, type Io } from "./io.js";

export type Loaded = { readonly settings: Settings; readonly pipeline: Pipeline; readonly plan: Plan };

/** Settings, then the pipeline, then its plan; on a config error prints the diagnostics and returns the exit code. */
export async function loadForRun(
  file: string,
  options: GlobalOptions & { readonly json: boolean },
  io: Io,
  /** false for `plan`, which writes nothing: fetching a git pack fills the cache under the state directory. */
  resolvePacks = true,
): Promise<Loaded | number> {
  const settings = settingsFor(io, options);
  if (!settings.ok) {
    return fail(io, settings.failure, options);
  }
  const pipeline = await loadPipeline(resolve(io.cwd, file), settings.value);
  if (!pipeline.ok) {
    return fail(io, pipeline.failure, options);
  }
  // Rule packs (local, npm, git) are resolved once, here: the run stores the rules, so resume never fetches again.
  const ruled = resolvePacks ? await withRules(pipeline.value, settings.value) : ({ ok: true, value: pipeline.value } as const);
  if (!ruled.ok) {
    return fail(io, ruled.failure, options);
  }
  return { settings: settings.value, pipeline: ruled.value, plan: buildPlan(ruled.value) };
}
