import { resolve } from "node:path";
import type { Pipeline, Settings } from "../core/pipeline.js";
import { loadPipeline } from "../config/index.js";
import { buildPlan, type Plan } from "../plan/plan.js";
import { settingsFor, type GlobalOptions } from "./context.js";
import { exitCodeFor } from "./exit-codes.js";
import { reportFailure, type Io } from "./io.js";

export type Loaded = { readonly settings: Settings; readonly pipeline: Pipeline; readonly plan: Plan };

/** Settings, then the pipeline, then its plan; on a config error prints the diagnostics and returns the exit code. */
export async function loadForRun(file: string, options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<Loaded | number> {
  const settings = settingsFor(io, options);
  if (!settings.ok) {
    reportFailure(io, settings.failure, options);
    return exitCodeFor(settings.failure);
  }
  const pipeline = await loadPipeline(resolve(io.cwd, file), settings.value);
  if (!pipeline.ok) {
    reportFailure(io, pipeline.failure, options);
    return exitCodeFor(pipeline.failure);
  }
  return { settings: settings.value, pipeline: pipeline.value, plan: buildPlan(pipeline.value) };
}
