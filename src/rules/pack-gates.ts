/**
 * Once every pack in `uses:` is read (git ones fetched), the pipeline's gates and `pack:NAME` templates are settled
 * from all of them, by the precedence config/ applied to the packs it could read itself (src/config/pack-gates.ts):
 * config/ reports unknown names with positions, except where a git pack might define them; those are checked here.
 */
import { mergePackGates, packTemplates, PACK_TEMPLATE, type LoadedRulePack } from "../config/index.js";
import type { GateSpec, Pipeline, TaskSpec, TemplateSource } from "../core/pipeline.js";
import { err, ok, type Result } from "../core/result.js";

export function applyPackGates(pipeline: Pipeline, packs: readonly LoadedRulePack[]): Result<Pick<Pipeline, "gates" | "tasks">, string> {
  const templates = packTemplates(packs);
  const problems: string[] = [];
  const settle = (template: TemplateSource, who: string): TemplateSource => {
    if (template.ref === undefined) return template;
    const found = templates.get(template.ref.slice(PACK_TEMPLATE.length));
    if (found !== undefined) return { ...found, ref: template.ref };
    problems.push(`${who} ${JSON.stringify(template.ref)}, but no rule pack in uses: has that template`);
    return template;
  };
  const own: Record<string, GateSpec> = {};
  for (const [id, gate] of Object.entries(pipeline.gates)) {
    if (gate.pack !== undefined) continue;
    own[id] = gate.kind === "judge" && gate.rubric !== undefined ? { ...gate, rubric: settle(gate.rubric, `gate ${JSON.stringify(id)} has rubric`) } : gate;
  }
  const gates = mergePackGates(own, packs);
  const tasks = pipeline.tasks.map((task): TaskSpec => {
    for (const gate of task.gates) {
      if (gates[gate] === undefined) problems.push(`task ${JSON.stringify(task.id)} uses gate ${JSON.stringify(gate)}, which neither the pipeline nor any rule pack in uses: defines`);
    }
    return { ...task, prompt: settle(task.prompt, `task ${JSON.stringify(task.id)} has template`) };
  });
  if (problems.length > 0) return err(problems.join("\n"));
  return ok({ gates, tasks });
}
