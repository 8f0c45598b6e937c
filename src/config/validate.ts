import { basename, resolve } from "node:path";
import type { Diagnostic } from "../core/diagnostic.js";
import type { Pipeline, Settings } from "../core/pipeline.js";
import { CONFIG_FILE } from "./find-config.js";
import { analysePipeline } from "./pipeline.js";
import { analyseRulePack } from "./rule-pack.js";
import { analyseSettings } from "./settings.js";
import type { PackResults } from "./uses.js";
import { readYamlFile } from "./yaml-file.js";

export interface Validation {
  /** Every problem, file by file in the order given, in file order within each. */
  readonly diagnostics: Diagnostic[];
  /** The text of each file read (absolute path → text), to show the lines diagnostics point at. */
  readonly sources: Map<string, string>;
  /** Each file checked as a pipeline that has no errors (absolute path → the pipeline loadPipeline would return). */
  readonly pipelines: Map<string, Pipeline>;
}

/**
 * `orc validate`: checks each file without running anything. A file named orchestrator.yaml is checked as settings,
 * a mapping with `rules:` and no `tasks:` as a rule pack, anything else as a pipeline (with its templates and the
 * local rule packs it uses). Relative paths resolve against the current directory.
 */
export async function validateFiles(files: readonly string[], settings: Settings): Promise<Validation> {
  await Promise.resolve(); // async by contract: fetching `uses:` packs from npm or git will be.
  const packs: PackResults = { diagnostics: [], sources: new Map(), checked: new Set() };
  const diagnostics: Diagnostic[] = [];
  const pipelines = new Map<string, Pipeline>();
  for (const file of new Set(files.map((f) => resolve(f)))) {
    const parsed = readYamlFile(file);
    if (parsed.text !== undefined) packs.sources.set(file, parsed.text);
    const value = parsed.value;
    if (basename(file) === CONFIG_FILE) {
      diagnostics.push(...analyseSettings(parsed).diagnostics);
    } else if (value !== undefined && Object.hasOwn(value, "rules") && !Object.hasOwn(value, "tasks")) {
      if (packs.checked.has(file)) continue;
      packs.checked.add(file);
      diagnostics.push(...analyseRulePack(parsed));
    } else {
      const analysis = analysePipeline(parsed, settings, packs);
      diagnostics.push(...analysis.diagnostics);
      if (analysis.pipeline !== undefined) pipelines.set(file, analysis.pipeline);
    }
    diagnostics.push(...packs.diagnostics.splice(0));
  }
  return { diagnostics, sources: packs.sources, pipelines };
}
