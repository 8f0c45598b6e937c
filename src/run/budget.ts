/**
 * Budgets: what a run's and a task's attempts have spent (cost and tokens the agents reported, time spent in
 * attempts), checked against `budget:` before each attempt starts. Spending is read from the state store, so a
 * resumed run counts what earlier processes spent. Wall time is the time spent in attempts (from attempt start to
 * decision): a run paused overnight does not use up its budget while nobody works.
 */
import type { AgentOutcome } from "../core/events.js";
import type { Budget } from "../core/pipeline.js";
import { formatDuration } from "../core/duration.js";
import type { AttemptRow, RunSnapshot } from "../state/port.js";

export interface Spend {
  readonly usd: number;
  readonly tokens: number;
  readonly wallTimeMs: number;
}

export const NOTHING_SPENT: Spend = { usd: 0, tokens: 0, wallTimeMs: 0 };

export function tokensOf(agent: AgentOutcome | undefined): number {
  const t = agent?.tokens;
  return t === undefined ? 0 : t.input + t.output + t.cacheRead + t.cacheWrite;
}

function attemptSpend(a: AttemptRow, now: number): Spend {
  const start = Date.parse(a.startedAt);
  const end = a.finishedAt === undefined ? now : Date.parse(a.finishedAt);
  return { usd: a.agent?.costUsd ?? 0, tokens: tokensOf(a.agent), wallTimeMs: Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : 0 };
}

function add(a: Spend, b: Spend): Spend {
  return { usd: a.usd + b.usd, tokens: a.tokens + b.tokens, wallTimeMs: a.wallTimeMs + b.wallTimeMs };
}

/** Spending of the whole run and of each task, from a snapshot. */
export function spending(snapshot: RunSnapshot | undefined, now = Date.now()): { readonly run: Spend; readonly tasks: ReadonlyMap<string, Spend> } {
  const tasks = new Map<string, Spend>();
  let run = NOTHING_SPENT;
  for (const task of snapshot?.tasks ?? []) {
    const spent = task.attempts.reduce((sum, a) => add(sum, attemptSpend(a, now)), NOTHING_SPENT);
    tasks.set(task.id, spent);
    run = add(run, spent);
  }
  return { run, tasks };
}

/** Why `budget` is used up by `spent` (`budget-exhausted: …`), or undefined while something is left. */
export function exhausted(budget: Budget | undefined, spent: Spend, scope: string): string | undefined {
  if (budget === undefined) return undefined;
  const over: string[] = [];
  if (budget.usd !== undefined && spent.usd >= budget.usd) over.push(`cost $${spent.usd.toFixed(4)} of $${budget.usd}`);
  if (budget.tokens !== undefined && spent.tokens >= budget.tokens) over.push(`${spent.tokens} tokens of ${budget.tokens}`);
  if (budget.wallTimeMs !== undefined && spent.wallTimeMs >= budget.wallTimeMs) {
    over.push(`${formatDuration(spent.wallTimeMs)} of ${formatDuration(budget.wallTimeMs)} wall time`);
  }
  return over.length === 0 ? undefined : `budget-exhausted: ${scope} budget used up (${over.join(", ")})`;
}

/** The first exhausted budget (the run's, then the task's) before the next attempt of `taskId`. */
export function budgetCheck(
  snapshot: () => RunSnapshot | undefined,
  runBudget: Budget | undefined,
  taskId: string,
  taskBudget: Budget | undefined,
): string | undefined {
  // No budget, no snapshot: an attempt without limits costs no extra read of the store.
  if (runBudget === undefined && taskBudget === undefined) return undefined;
  const spent = spending(snapshot());
  return exhausted(runBudget, spent.run, "run") ?? exhausted(taskBudget, spent.tasks.get(taskId) ?? NOTHING_SPENT, `task ${taskId}`);
}
