import type { Plan } from "./plan.js";

/** The human form of `orc plan`: one block per level, each task with its needs, gates and attempt budget. */
export function renderPlan(plan: Plan): string {
  const byId = new Map(plan.tasks.map((t) => [t.id, t]));
  const lines = [
    `pipeline ${plan.pipeline}: ${plan.tasks.length} task${plan.tasks.length === 1 ? "" : "s"} in ${plan.levels.length} level${
      plan.levels.length === 1 ? "" : "s"
    }, concurrency ${plan.concurrency}`,
  ];
  plan.levels.forEach((ids, level) => {
    lines.push(`level ${level}:`);
    for (const id of ids) {
      const task = byId.get(id);
      if (task === undefined) continue;
      const needs = task.needs.length > 0 ? ` needs [${task.needs.join(", ")}]` : "";
      const gates = task.gates.length > 0 ? ` gates [${task.gates.join(", ")}]` : " no gates";
      const priority = task.priority !== 0 ? `, priority ${task.priority}` : "";
      lines.push(`  ${id}${needs}${gates}, agent ${task.agent}, max ${task.maxAttempts} attempt${task.maxAttempts === 1 ? "" : "s"}${priority}`);
    }
  });
  return lines.join("\n");
}
