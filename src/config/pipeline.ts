/**
 * Loads a pipeline file in passes: YAML with positions (yaml-file.ts) → shape (shape.ts) → shorthands expanded and
 * semantic rules (here and in the files it calls) → the typed Pipeline of src/core/pipeline.ts.
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
import { mergePackGates, packTemplates, visiblePacks } from "./pack-gates.js";
import { checkNeeds } from "./graph.js";
import { refs, type Scope } from "./scope.js";
import { FORMAT_VERSION } from "./schema/constants.js";
import { checkShape } from "./shape.js";
import { buildTasks, checkGateRefs } from "./tasks.js";
import { readTemplate, shippedRetryTemplate } from "./templates.js";
import { resolveUses, type PackResults } from "./uses.js";
import { checkVersion } from "./version.js";
import { readYamlFile, type YamlFile } from "./yaml-file.js";

export interface PipelineAnalysis {
  /** Present when the file has no errors. */
  readonly pipeline: Pipeline | undefined;
  readonly diagnostics: Diagnostic[];
}

/** The normalised pipeline in `file`, or every problem found in it (and in the local rule packs it uses). */
export async function loadPipeline(file: string, settings: Settings): Promise<Result<Pipeline, Failure>> {
  await Promise.resolve(); // async by contract: fetching `uses:` packs from npm or git will be.
  const packs: PackResults = { diagnostics: [], sources: new Map(), checked: new Set() };
  const { pipeline, diagnostics } = analysePipeline(readYamlFile(resolve(file)), settings, packs);
  const all = [...diagnostics, ...packs.diagnostics];
  if (pipeline === undefined || all.some((d) => d.severity === "error")) return err({ reason: "config", diagnostics: all });
  return ok(pipeline);
}

export function analysePipeline(parsed: YamlFile, settings: Settings, packs?: PackResults): PipelineAnalysis {
  const { out, value, file } = parsed;
  if (value === undefined || !checkShape("pipeline", value, out)) return { pipeline: undefined, diagnostics: out.list() };
  const base: Scope = { out, root: value, dirs: [settings.root, dirname(file)] };
  const uses = resolveUses(value.uses, base, packs);
  // Packs config/ can read now (local, shipped, npm) lend their gate and template names, checked here with positions;
  // with a git pack among them, names none of these define are checked once it is fetched (src/rules/packs.ts).
  const visible = visiblePacks([...new Set([...settings.uses, ...uses])], [settings.root, dirname(file)]);
  const scope: Scope = { ...base, packTemplates: { known: packTemplates(visible.packs), complete: visible.complete } };

  checkVersion(value.version, out);
  const agent = mergeAgent(settings.agent, readAgent(value.agent, ["agent"], scope));
  if (value.tasks.some((t) => t.agent === undefined)) {
    const hint = value.agent === undefined ? "; set agent.run in the pipeline or in orchestrator.yaml" : "";
    checkRunnable(agent, value.agent === undefined ? [] : ["agent"], scope, hint);
  }
  const gates = mergePackGates(buildGates(value.gates, scope), visible.packs);
  const defaults = value.defaults ?? {};
  const gateIds = [...new Set([...Object.keys(value.gates ?? {}), ...visible.packs.flatMap((p) => Object.keys(p.gates))])];
  const gatesOpen = !visible.complete;
  checkGateRefs(refs(defaults.gates, ["defaults", "gates"]), gateIds, "defaults use", scope, gatesOpen);
  const context = { file, defaults, maxAttempts: settings.maxAttempts, agent, gateIds, gatesOpen };
  const { tasks, needs } = buildTasks(value.tasks, context, scope);
  checkNeeds(needs, scope);
  const retryTemplate =
    value.retry_template === undefined
      ? shippedRetryTemplate()
      : readTemplate(value.retry_template, ["retry_template"], "retry_template file", scope);
  checkBreakpoints(value.breakpoints ?? [], scope, parsed.text);

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
    breakpoints: (value.breakpoints ?? []).map(({ id, when, action, message, hook }) => ({
      id,
      when,
      action,
      ...(message === undefined ? {} : { message }),
      ...(hook === undefined ? {} : { hook }),
    })),
    ...(value.disable_rules === undefined ? {} : { disableRules: refs(value.disable_rules, ["disable_rules"]).map((r) => r.name) }),
    retryTemplate,
    ...(value.failed_work === "keep" ? { keepFailedWork: true } : {}),
    uses: [...new Set([...settings.uses, ...uses])],
    ...budgetField(readBudget(value.budget, ["budget"], scope)),
  };
  return { pipeline, diagnostics: out.list() };
}
