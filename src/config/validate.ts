import { basename, resolve } from "node:path";
import type { Diagnostic } from "../core/diagnostic.js";
import type { Settings } from "../core/pipeline.js";
import { CONFIG_FILE } from "./find-config.js";
import { PackReads } from "./packs/read.js";
import { analysePipeline } from "./pipeline.js";
import { analyseSettings } from "./settings.js";
import { readYamlFile } from "./yaml-file.js";

export interface Validation {
  /** Every problem, file by file in the order given, in file order within each. */
  readonly diagnostics: Diagnostic[];
  /** The text of each file read (absolute path → text), to show the lines diagnostics point at. */
  readonly sources: Map<string, string>;
}

/**
 * `orc validate`: checks each file without running anything or writing anything. A file named orchestrator.yaml is
 * checked as settings, a mapping with `rules:` and no `tasks:` as a rule pack, anything else as a pipeline (with its
 * templates and the rule packs it uses; git packs are not fetched). Relative paths resolve against the current
 * directory.
 */
export async function validateFiles(files: readonly string[], settings: Settings): Promise<Validation> {
  const reads = new PackReads();
  const diagnostics: Diagnostic[] = [];
  for (const file of new Set(files.map((f) => resolve(f)))) {
    const parsed = readYamlFile(file);
    if (parsed.text !== undefined) reads.sources.set(file, parsed.text);
    const value = parsed.value;
    if (basename(file) === CONFIG_FILE) {
      diagnostics.push(...analyseSettings(parsed).diagnostics);
    } else if (value !== undefined && Object.hasOwn(value, "rules") && !Object.hasOwn(value, "tasks")) {
      reads.read(file, parsed);
    } else {
      diagnostics.push(...(await analysePipeline(parsed, settings, reads, { fetch: false })).diagnostics);
    }
    diagnostics.push(...reads.diagnostics.splice(0));
  }
  return { diagnostics, sources: reads.sources };
}
