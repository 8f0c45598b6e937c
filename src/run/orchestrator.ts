import { mkdirSync } from "node:fs";
import type { TaskStatus } from "../core/events.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import type { Plan } from "../plan/plan.js";
import { describePrevious, type PreviousAttempt } from "../prompts/context.js";
import type { TaskRow } from "../state/port.js";
import { runAttempt } from "./attempt.js";
import { recorder, type RunDeps } from "./deps.js";

export type RunEnd = "succeeded" | "failed" | "interrupted";

export interface RunTarget {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly plan: Plan;
  readonly workspace: string;
  readonly resumed: boolean;
}

const FINAL: ReadonlySet<TaskStatus> = new Set(["accepted", "failed", "skipped"]);

/** The evidence of a task's last decided attempt, as the next prompt sees it (used when resuming). */
function lastDecided(row: TaskRow | undefined): PreviousAttempt | null {
  const attempt = row?.attempts.filter((a) => a.status === "decided").at(-1);
  if (attempt === undefined) return null;
  return describePrevious({
    attempt: attempt.attempt,
    reasons: attempt.reasons,
    agent: attempt.agent,
    gates: attempt.gates,
    files: attempt.changes?.files ?? [],
  });
}

/**
 * The orchestrator loop: start ready tasks (all needs accepted) in priority then plan order, up to `concurrency`
 * at once; skip the dependents of a failed task; stop starting work once the run's signal aborts. Everything it
 * knows at start comes from the DB, so a fresh run and a resumed one take the same path.
 */
export async function executeRun(deps: RunDeps, target: RunTarget): Promise<RunEnd> {
  const { runId, pipeline, plan } = target;
  const record = recorder(deps);
  mkdirSync(deps.promptDir, { recursive: true });
  record({ type: "run.started", run: runId, resumed: target.resumed, pid: process.pid });

  const snapshot = deps.store.snapshot(runId);
  const rows = new Map((snapshot?.tasks ?? []).map((t) => [t.id, t]));
  // A crash or kill -9 leaves attempts marked running: close them so they neither count nor block.
  for (const row of rows.values()) {
    for (const attempt of row.attempts) {
      if (attempt.status === "running") record({ type: "attempt.interrupted", run: runId, task: row.id, attempt: attempt.attempt });
    }
  }

  const specs = new Map(pipeline.tasks.map((t) => [t.id, t]));
  const order = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const status = new Map<string, TaskStatus>();
  for (const t of plan.tasks) {
    const stored = rows.get(t.id)?.status;
    status.set(t.id, stored !== undefined && FINAL.has(stored) ? stored : "pending");
  }

  const inflight = new Map<string, Promise<void>>();
  const finish = (task: string, final: "accepted" | "failed" | "skipped", reason: string): void => {
    status.set(task, final);
    record({ type: "task.finished", run: runId, task, status: final, reason });
  };

  const propagateSkips = (): void => {
    for (const t of plan.tasks) {
      if (status.get(t.id) !== "pending") continue;
      const blocker = t.needs.find((n) => status.get(n) === "failed" || status.get(n) === "skipped");
      if (blocker !== undefined) finish(t.id, "skipped", `needs ${blocker}, which ${status.get(blocker) === "failed" ? "failed" : "was skipped"}`);
    }
  };

  const startTask = (spec: TaskSpec): void => {
    status.set(spec.id, "running");
    const work = runTask(deps, target, spec, rows.get(spec.id), finish).finally(() => inflight.delete(spec.id));
    inflight.set(spec.id, work);
  };

  for (;;) {
    propagateSkips();
    if (!deps.signal.aborted) {
      const ready = plan.tasks
        .filter((t) => status.get(t.id) === "pending" && t.needs.every((n) => status.get(n) === "accepted"))
        .sort((a, b) => b.priority - a.priority || (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
      for (const t of ready) {
        if (inflight.size >= Math.max(1, plan.concurrency)) break;
        const spec = specs.get(t.id);
        if (spec !== undefined) startTask(spec);
      }
    }
    if (inflight.size === 0) break;
    await Promise.race(inflight.values());
  }

  if (deps.signal.aborted) {
    record({ type: "run.interrupted", run: runId, reason: "interrupted (SIGINT); `orc resume` continues" });
    return "interrupted";
  }
  const failed = plan.tasks.filter((t) => status.get(t.id) !== "accepted").map((t) => `${t.id} ${status.get(t.id) ?? "pending"}`);
  const end = failed.length === 0 ? "succeeded" : "failed";
  record({
    type: "run.finished",
    run: runId,
    status: end,
    reason: end === "succeeded" ? `all ${plan.tasks.length} tasks accepted` : `not accepted: ${failed.join(", ")}`,
  });
  return end;
}

async function runTask(
  deps: RunDeps,
  target: RunTarget,
  task: TaskSpec,
  row: TaskRow | undefined,
  finish: (task: string, final: "accepted" | "failed", reason: string) => void,
): Promise<void> {
  const record = recorder(deps);
  record({ type: "task.started", run: target.runId, task: task.id });
  let decided = row?.attempts.filter((a) => a.status === "decided").length ?? 0;
  let attempt = row?.attempts.reduce((max, a) => Math.max(max, a.attempt), 0) ?? 0;
  let previous = lastDecided(row);

  while (decided < task.maxAttempts) {
    if (deps.signal.aborted) return;
    attempt += 1;
    const end = await runAttempt(deps, {
      runId: target.runId,
      pipeline: target.pipeline,
      task,
      attempt,
      decidedBefore: decided,
      workspace: target.workspace,
      previous,
    });
    if (end.kind === "interrupted") return;
    if (end.kind === "prompt-error") {
      finish(task.id, "failed", `prompt could not be rendered: ${end.message}`);
      return;
    }
    decided += 1;
    if (end.decision === "accept") {
      finish(task.id, "accepted", end.reasons.join("; "));
      return;
    }
    if (end.decision === "fail") {
      finish(task.id, "failed", end.reasons.join("; "));
      return;
    }
    previous = end.previous;
  }
  finish(task.id, "failed", `no attempts left (${decided} of ${task.maxAttempts})`);
}
