/**
 * Loads a pipeline file in passes: YAML with positions (yaml-file.ts) → shape (shape.ts) → the rule packs in `uses:`
 * resolved and read (packs/) → shorthands expanded and semantic rules, with the packs' gates, templates and rules
 * merged in (here and in the files it calls) → the typed Pipeline of src/core/pipeline.ts, as a run stores it.
 *
 * Relative paths in a pipeline (`template:`, `rubric:`, `retry_template:`, local `uses:`) resolve against the project
 * root (the directory of orchestrator.yaml, else the current directory), else against the pipeline's own directory.
 */
import { basename, dirname, extname, resolve } from "node:path";
import type { Diagnostic } from "../core/diagnostic.js";
import type { Failure } from "../core/failure.js";
import type { Pipeline, Settings } from "../core/pipeline.js";
import { err, ok, type Result } from "../core/result.js";
import { checkRunnable, mergeAgent, readAgent } from "./agent.js";
import { checkBreakpoints } from "./conditions.js";
import { budgetField, readBudget } from "./agent-settings.js";
import { buildGates } from "./gates.js";
import type { GitRunner } from "./packs/git.js";
import { mergePackGates, mergeRules, packTemplates } from "./packs/merge.js";
import { PackReads } from "./packs/read.js";
import { resolvePacks } from "./packs/resolve.js";
import { settingsEntries, useEntries } from "./packs/uses.js";
import { checkNeeds } from "./graph.js";
import { refs, type Scope } from "./scope.js";
import { FORMAT_VERSION } from "./schema/constants.js";
import { checkShape } from "./shape.js";
import { buildTasks, checkGateRefs } from "./tasks.js";
import { readTemplate, shippedRetryTemplate } from "./templates.js";
import { readTransport } from "./transport.js";
import { checkVersion } from "./version.js";
import { readYamlFile, type YamlFile } from "./yaml-file.js";

export interface PipelineAnalysis {
  /** Present when the file has no errors. */
  readonly pipeline: Pipeline | undefined;
  readonly diagnostics: Diagnostic[];
}

export interface LoadOptions {
  /**
   * How git packs in `uses:` are fetched (`orc apply`: into a bare cache under the state directory). false, the
   * default (`orc plan`, `orc validate`), fetches and writes nothing: a git pack is then not read, so gate, template
   * and rule names that only it could define are not checked.
   */
  readonly fetch?: GitRunner | false;
}

/**
 * The normalised pipeline in `file` with its rule packs resolved and merged, or every problem found in it and in the
 * packs it uses.
 */
export async function loadPipeline(file: string, settings: Settings, options: LoadOptions = {}): Promise<Result<Pipeline, Failure>> {
  const reads = new PackReads();
  const { pipeline, diagnostics } = await analysePipeline(readYamlFile(resolve(file)), settings, reads, options);
  const all = [...diagnostics, ...reads.diagnostics];
  if (pipeline === undefined || all.some((d) => d.severity === "error")) return err({ reason: "config", diagnostics: all });
  return ok(pipeline);
}

/** Checks a parsed pipeline; problems in the packs it uses go to `reads`. */
export async function analysePipeline(parsed: YamlFile, settings: Settings, reads: PackReads, options: LoadOptions = {}): Promise<PipelineAnalysis> {
  const { out, value, file } = parsed;
  if (value === undefined || !checkShape("pipeline", value, out)) return { pipeline: undefined, diagnostics: out.list() };
  const base: Scope = { out, root: value, dirs: [settings.root, dirname(file)] };
  const entries = [...settingsEntries(settings, reads), ...useEntries(value.uses, base)];
  const sources = { from: [settings.root, dirname(file)], stateDir: settings.stateDir, fetch: options.fetch ?? false };
  const visible = await resolvePacks(entries, sources, reads);
  const scope: Scope = { ...base, packTemplates: { known: packTemplates(visible.packs), complete: visible.complete } };

  checkVersion(value.version, out);
  const agent = mergeAgent(settings.agent, readAgent(value.agent, ["agent"], scope));
  if (value.tasks.some((t) => t.agent === undefined)) {
    const hint = value.agent === undefined ? "; set agent.run in the pipeline or in orchestrator.yaml" : "";
    checkRunnable(agent, value.agent === undefined ? [] : ["agent"], scope, hint);
  }
  // A pipeline's transport replaces orchestrator.yaml's whole: settings of two sandboxes do not mix. None at all: `orc
  // apply` chooses (cli/default-transport.ts: sandbox where bubblewrap works, else local).
  const transport = readTransport(value.transport, ["transport"], scope) ?? settings.transport;
  const gates = mergePackGates(buildGates(value.gates, scope), visible.packs);
  const defaults = value.defaults ?? {};
  const gateIds = [...new Set([...Object.keys(value.gates ?? {}), ...visible.packs.flatMap((p) => Object.keys(p.gates))])];
  const gatesOpen = !visible.complete;
  checkGateRefs(refs(defaults.gates, ["defaults", "gates"]), gateIds, "defaults use", scope, gatesOpen);
  checkGateRefs(refs(defaults.merge_gates, ["defaults", "merge_gates"]), gateIds, "defaults merge with", scope, gatesOpen);
  const packProtect = [...new Set(visible.packs.flatMap((p) => p.protect))];
  const context = { file, defaults, maxAttempts: settings.maxAttempts, agent, gateIds, gatesOpen, packProtect };
  const { tasks, needs } = buildTasks(value.tasks, context, scope);
  checkNeeds(needs, scope);
  const retryTemplate =
    value.retry_template === undefined
      ? shippedRetryTemplate()
      : readTemplate(value.retry_template, ["retry_template"], "retry_template file", scope);
  checkBreakpoints(value.breakpoints ?? [], scope, parsed.text);
  const breakpoints = (value.breakpoints ?? []).map(({ id, when, action, message, hook }) => ({
    id,
    when,
    action,
    ...(message === undefined ? {} : { message }),
    ...(hook === undefined ? {} : { hook }),
  }));
  const disable = refs(value.disable_rules, ["disable_rules"]);
  const rules = mergeRules(visible.packs, breakpoints, disable, scope, visible.complete);

  if (out.hasErrors() || retryTemplate === undefined) return { pipeline: undefined, diagnostics: out.list() };
  const pipeline: Pipeline = {
    version: FORMAT_VERSION,
    name: value.name ?? basename(file, extname(file)),
    file,
    dir: settings.root,
    agent,
    concurrency: value.concurrency ?? settings.concurrency,
    gates,
    tasks,
    breakpoints,
    ...(value.disable_rules === undefined ? {} : { disableRules: disable.map((r) => r.name) }),
    retryTemplate,
    ...(value.failed_work === "keep" ? { keepFailedWork: true } : {}),
    uses: [...new Set(entries.map((u) => u.entry))],
    ...budgetField(readBudget(value.budget, ["budget"], scope)),
    rules,
    packs: visible.infos,
    ...(transport === undefined ? {} : { transport }),
  };
  return { pipeline, diagnostics: out.list() };
}
