import { diagnosticToJson } from "../core/diagnostic.js";
import { useKind, validateFiles } from "../config/index.js";
import type { Failure } from "../core/failure.js";
import type { Pipeline, Settings } from "../core/pipeline.js";
import { withRules } from "./packs.js";
import { settingsFor, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail, reportFailure, type Io } from "./io.js";

export async function validateCommand(files: readonly string[], options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  const settings = settingsFor(io, options);
  if (!settings.ok) {
    return fail(io, settings.failure, options);
  }
  const { diagnostics, sources, pipelines } = await validateFiles([...files], settings.value);
  if (!diagnostics.some((d) => d.severity === "error")) {
    const packs = await packProblem(pipelines.values(), settings.value);
    if (packs !== undefined) {
      return fail(io, packs, options);
    }
  }
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (options.json) {
    io.stdout.write(`${JSON.stringify(diagnostics.map(diagnosticToJson))}\n`);
  } else {
    if (diagnostics.length > 0) reportFailure(io, { reason: "config", diagnostics }, { json: false, sources });
    if (errors.length === 0) io.stdout.write(`${files.length} file${files.length === 1 ? "" : "s"} valid\n`);
  }
  return errors.length > 0 ? EXIT.usage : EXIT.ok;
}

/**
 * Packs config/ cannot check (shipped, npm, git) are resolved and read for each valid pipeline; the first problem.
 * The pipelines are the ones validateFiles built: loading each file again would parse it twice.
 */
async function packProblem(pipelines: Iterable<Pipeline>, settings: Settings): Promise<Failure | undefined> {
  for (const pipeline of pipelines) {
    if (!(pipeline.uses ?? []).some((u) => useKind(u) !== "local")) continue; // local packs only
    const ruled = await withRules(pipeline, settings);
    if (!ruled.ok) return ruled.failure;
  }
  return undefined;
}
