import { resolve } from "node:path";
import type { Pipeline, Settings } from "../core/pipeline.js";
import { loadPipeline } from "../config/index.js";
import { buildPlan, type Plan } from "../plan/plan.js";
import { settingsFor, type GlobalOptions } from "./context.js";
import { fail, type Io } from "./io.js";
import { packGit } from "./packs.js";

export type Loaded = { readonly settings: Settings; readonly pipeline: Pipeline; readonly plan: Plan };

/**
 * Settings, then the pipeline with its rule packs resolved (what a run stores, so resume never fetches again), then
 * its plan; on a config error prints the diagnostics and returns the exit code.
 */
export async function loadForRun(
  file: string,
  options: GlobalOptions & { readonly json: boolean },
  io: Io,
  /** false for `plan`, which writes nothing: fetching a git pack fills the cache under the state directory. */
  fetchPacks = true,
): Promise<Loaded | number> {
  const settings = await settingsFor(io, options);
  if (!settings.ok) {
    return fail(io, settings.failure, options);
  }
  const pipeline = await loadPipeline(resolve(io.cwd, file), settings.value, { fetch: fetchPacks ? packGit() : false });
  if (!pipeline.ok) {
    return fail(io, pipeline.failure, options);
  }
  return { settings: settings.value, pipeline: pipeline.value, plan: buildPlan(pipeline.value) };
}
