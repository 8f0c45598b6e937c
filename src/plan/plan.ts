import type { Pipeline } from "../core/pipeline.js";

/** Versioned so a stored plan can be told apart from one written by a future orc. */
export const PLAN_VERSION = 1;

export interface PlanTask {
  readonly id: string;
  /** 0 for tasks with no needs; otherwise 1 + the deepest need. Tasks of one level can run side by side. */
  readonly level: number;
  readonly needs: readonly string[];
  readonly gates: readonly string[];
  readonly priority: number;
  readonly maxAttempts: number;
  readonly agent: string;
}

/** Exactly what `orc apply` will execute, as data: `orc plan` prints it and the run stores it. */
export interface Plan {
  readonly version: typeof PLAN_VERSION;
  readonly pipeline: string;
  readonly concurrency: number;
  /** Task ids per level, each level in scheduling order (priority, then file order). */
  readonly levels: readonly (readonly string[])[];
  /** Every task in the order a run with concurrency 1 starts them. */
  readonly tasks: readonly PlanTask[];
}

/**
 * Pure: no I/O. config/ has already rejected cycles and unknown needs with diagnostics; meeting one here is a bug.
 */
export function buildPlan(pipeline: Pipeline): Plan {
  const byId = new Map(pipeline.tasks.map((task, index) => [task.id, { task, index }]));
  const levels = new Map<string, number>();
  const visiting = new Set<string>();

  const levelOf = (id: string): number => {
    const known = levels.get(id);
    if (known !== undefined) return known;
    const entry = byId.get(id);
    if (entry === undefined) throw new Error(`plan: unknown task ${id}`);
    if (visiting.has(id)) throw new Error(`plan: cycle through ${id}`);
    visiting.add(id);
    const level = entry.task.needs.reduce((deepest, need) => Math.max(deepest, levelOf(need) + 1), 0);
    visiting.delete(id);
    levels.set(id, level);
    return level;
  };

  const planned = pipeline.tasks.map((task, index) => ({
    index,
    task: {
      id: task.id,
      level: levelOf(task.id),
      needs: [...task.needs],
      gates: [...task.gates],
      priority: task.priority,
      maxAttempts: task.maxAttempts,
      agent: task.agent.kind,
    },
  }));
  const ordered = [...planned].sort(
    (a, b) => a.task.level - b.task.level || b.task.priority - a.task.priority || a.index - b.index,
  );
  const depth = ordered.reduce((max, p) => Math.max(max, p.task.level + 1), 0);
  const grouped: string[][] = Array.from({ length: depth }, () => []);
  for (const p of ordered) grouped[p.task.level]?.push(p.task.id);

  return {
    version: PLAN_VERSION,
    pipeline: pipeline.name,
    concurrency: pipeline.concurrency,
    levels: grouped,
    tasks: ordered.map((p) => p.task),
  };
}
