import type { AgentSpec, TaskSpec, TemplateSource } from "../core/pipeline.js";
import { checkRunnable, mergeAgent, readAgent } from "./agent.js";
import { budgetField, readBudget } from "./agent-settings.js";
import { didYouMean, q, type Path } from "./describe.js";
import type { TaskNeeds } from "./graph.js";
import type { RawPipeline, RawTask } from "./schema/pipeline.js";
import { refs, type Ref, type Scope } from "./scope.js";
import { readTemplate } from "./templates.js";
import { readTransport } from "./transport.js";

export interface TaskContext {
  readonly file: string;
  readonly defaults: NonNullable<RawPipeline["defaults"]>;
  readonly maxAttempts: number;
  readonly agent: AgentSpec;
  /** Every gate name defined, including gates too broken to build (their own diagnostics say why). */
  readonly gateIds: readonly string[];
  /** Some rule pack was not read (a git pack not fetched, or a broken one): names not in gateIds are not checked. */
  readonly gatesOpen: boolean;
  /** The paths the rule packs in effect protect (`protect:` of a pack), for every task that does not opt out. */
  readonly packProtect: readonly string[];
}

/** Normalised tasks (each id once, file order) and their `needs` with positions, for the graph rules. */
export function buildTasks(raw: readonly RawTask[], context: TaskContext, scope: Scope): { tasks: TaskSpec[]; needs: TaskNeeds[] } {
  const tasks: TaskSpec[] = [];
  const needs: TaskNeeds[] = [];
  const first = new Map<string, number>();
  for (const [index, task] of raw.entries()) {
    const path: Path = ["tasks", index];
    const seen = first.get(task.id);
    if (seen !== undefined) {
      const line = scope.out.locator.span(["tasks", seen, "id"]).line;
      scope.out.error("duplicate-task", `duplicate task id ${q(task.id)} (first defined on line ${line})`, [...path, "id"]);
      continue;
    }
    first.set(task.id, index);
    const gates = refs(task.gates, [...path, "gates"]);
    checkGateRefs(gates, context.gateIds, `task ${q(task.id)} uses`, scope, context.gatesOpen);
    const mergeGates = task.merge_gates === undefined ? undefined : refs(task.merge_gates, [...path, "merge_gates"]);
    checkGateRefs(mergeGates ?? [], context.gateIds, `task ${q(task.id)} merges with`, scope, context.gatesOpen);
    const mergeGateNames = mergeGates?.map((g) => g.name) ?? (context.defaults.merge_gates === undefined ? undefined : refs(context.defaults.merge_gates, []).map((g) => g.name));
    const layer = readAgent(task.agent, [...path, "agent"], scope);
    const agent = mergeAgent(context.agent, layer);
    if (layer !== undefined) checkRunnable(agent, [...path, "agent"], scope);
    const prompt = readPrompt(task, path, context.file, scope);
    // A task's transport replaces the pipeline's whole, as the pipeline's replaces orchestrator.yaml's.
    const transport = readTransport(task.transport, [...path, "transport"], scope);
    const need = refs(task.needs, [...path, "needs"]);
    needs.push({ id: task.id, needs: need });
    if (prompt === undefined) continue;
    tasks.push({
      id: task.id,
      prompt,
      needs: [...new Set(need.map((n) => n.name))],
      gates: task.gates === undefined ? refs(context.defaults.gates, []).map((g) => g.name) : gates.map((g) => g.name),
      maxAttempts: task.max_attempts ?? context.defaults.max_attempts ?? context.maxAttempts,
      priority: task.priority ?? context.defaults.priority ?? 0,
      // The packs' protected paths come after the task's own, unless the task opts out of them.
      protect: [...new Set([...refs(task.protect, []).map((p) => p.name), ...(task.protect_defaults === false ? [] : context.packProtect)])],
      ...(task.hidden === undefined ? {} : { hidden: refs(task.hidden, []).map((p) => p.name) }),
      ...(task.baseline === false ? { baseline: false } : {}),
      ...(mergeGateNames === undefined ? {} : { mergeGates: mergeGateNames }),
      agent,
      ...budgetField(readBudget(task.budget, [...path, "budget"], scope)),
      ...(transport === undefined ? {} : { transport }),
    });
  }
  return { tasks, needs };
}

/** Reports each gate name that `gates:` (or a rule pack) does not define; `who` starts the message (`task "x" uses`). */
export function checkGateRefs(names: readonly Ref[], gateIds: readonly string[], who: string, scope: Scope, open = false): void {
  if (open) return;
  const known = new Set(gateIds);
  for (const { name, path } of names) {
    if (known.has(name)) continue;
    const hint = scope.out.full ? "" : didYouMean(name, gateIds);
    scope.out.error("unknown-gate", `${who} unknown gate ${q(name)}${hint}`, path);
  }
}

/** `prompt:` (inline Liquid) or `template:` (a file read in now), exactly one of them. */
function readPrompt(task: RawTask, path: Path, file: string, scope: Scope): TemplateSource | undefined {
  const name = `task ${q(task.id)}`;
  if (task.prompt !== undefined && task.template !== undefined) {
    scope.out.error("prompt-or-template", `${name} has both prompt and template: give only one`, [...path, "template"], "key");
    return undefined;
  }
  if (task.prompt !== undefined) return { path: `${file}#tasks.${task.id}.prompt`, source: task.prompt };
  if (task.template !== undefined) return readTemplate(task.template, [...path, "template"], `${name}: template file`, scope);
  scope.out.error("prompt-or-template", `${name} has neither prompt nor template: give one`, [...path, "id"]);
  return undefined;
}
