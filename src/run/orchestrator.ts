import { mkdirSync } from "node:fs";
import type { TaskStatus } from "../core/events.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import type { Plan } from "../plan/plan.js";
import { describePrevious, type PreviousAttempt } from "../prompts/context.js";
import type { BreakpointRow, TaskRow } from "../state/port.js";
import { runAttempt } from "./attempt.js";
import { budgetCheck } from "./budget.js";
import { recorder, type RunDeps } from "./deps.js";
import { journalOf } from "./journal.js";
import { attemptKey, spawnedProcesses } from "./orphans.js";
import { checkBeforeTask } from "../rules/attempt-rules.js";
import { openBreakpoint } from "./pause.js";
import { resolvedReason, resumeStep, type ResumeStep } from "./resolutions.js";
import { waitForResolution } from "./wait.js";

/** `paused`: a task waits at a breakpoint for `orc resolve` (and the work that could run without it has run). */
export type RunEnd = "succeeded" | "failed" | "interrupted" | "paused";

export interface RunTarget {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly plan: Plan;
  readonly workspace: string;
  readonly resumed: boolean;
  /** `--wait`: stay up at a breakpoint until it is resolved from another process, then continue in place. */
  readonly wait?: boolean;
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
  // A crash or kill -9 leaves attempts marked running: close them so they neither count nor block. Their agents may
  // still be running (in their own process groups, out of the dead orc's reach): stop them before anything new
  // starts in the same workspace.
  const unfinished = [...rows.values()].flatMap((row) => row.attempts.filter((a) => a.status === "running").map((a) => ({ task: row.id, attempt: a.attempt })));
  const spawned = spawnedProcesses(deps.store, runId, new Set(unfinished.map((u) => attemptKey(u.task, u.attempt))));
  for (const { task, attempt } of unfinished) {
    const orphan = spawned.get(attemptKey(task, attempt));
    const stopped = orphan !== undefined && deps.transport.stopOrphan?.(orphan) === true;
    record({ type: "attempt.interrupted", run: runId, task, attempt, ...(stopped ? { orphanStopped: orphan.pid } : {}) });
  }

  const specs = new Map(pipeline.tasks.map((t) => [t.id, t]));
  const order = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const status = new Map<string, TaskStatus>();
  // Paused tasks: a breakpoint still open keeps waiting; a resolved one is applied (docs/rules.md).
  const steps = new Map<string, ResumeStep>();
  for (const t of plan.tasks) {
    const stored = rows.get(t.id)?.status;
    const step = resumeStep(rows.get(t.id), snapshot?.breakpoints ?? []);
    if (step !== undefined) steps.set(t.id, step);
    status.set(t.id, stored !== undefined && FINAL.has(stored) ? stored : step?.kind === "wait" ? "paused" : "pending");
  }

  // Scheduling is incremental, so a run of n tasks costs O(n + edges), not a scan of every task per task started:
  // `unmet` counts each task's needs not yet accepted, and a task whose count reaches 0 becomes a candidate.
  const dependents = new Map<string, string[]>();
  const unmet = new Map<string, number>();
  for (const t of plan.tasks) {
    unmet.set(t.id, t.needs.filter((n) => status.get(n) !== "accepted").length);
    for (const need of t.needs) {
      const list = dependents.get(need);
      if (list === undefined) dependents.set(need, [t.id]);
      else list.push(t.id);
    }
  }
  const candidates = new Set(plan.tasks.filter((t) => unmet.get(t.id) === 0).map((t) => t.id));
  /** A task failed or was skipped since the last pass over the pending tasks (a resumed run may start with some). */
  let blocked = true;

  const inflight = new Map<string, Promise<void>>();
  const journal = journalOf(deps);
  const finish = (task: string, final: "accepted" | "failed" | "skipped", reason: string): void => {
    status.set(task, final);
    // Committed with whatever the run records next: the next agent's start, the run's end (run/journal.ts).
    journal.defer({ type: "task.finished", run: runId, task, status: final, reason });
    if (final !== "accepted") {
      blocked = true;
      return;
    }
    for (const dependent of dependents.get(task) ?? []) {
      const left = (unmet.get(dependent) ?? 1) - 1;
      unmet.set(dependent, left);
      if (left === 0) candidates.add(dependent);
    }
  };

  for (const [task, step] of steps) {
    if (step.kind === "accept") finish(task, "accepted", step.reason);
    if (step.kind === "fail") finish(task, "failed", step.reason);
  }

  const propagateSkips = (): void => {
    for (const t of plan.tasks) {
      if (status.get(t.id) !== "pending") continue;
      const blocker = t.needs.find((n) => status.get(n) === "failed" || status.get(n) === "skipped");
      if (blocker !== undefined) finish(t.id, "skipped", `needs ${blocker}, which ${status.get(blocker) === "failed" ? "failed" : "was skipped"}`);
    }
  };

  const startTask = (spec: TaskSpec): void => {
    candidates.delete(spec.id);
    status.set(spec.id, "running");
    const step = steps.get(spec.id);
    const resumed = step?.kind === "continue" ? step : undefined;
    const pause = (): void => {
      status.set(spec.id, "paused");
    };
    const work = runTask(deps, target, spec, rows.get(spec.id), finish, { resumed, pause }).finally(() => inflight.delete(spec.id));
    inflight.set(spec.id, work);
  };

  const planned = new Map(plan.tasks.map((t) => [t.id, t]));
  for (;;) {
    // Plan order lists every task after its needs, so one pass skips whole chains behind a failure.
    if (blocked) {
      blocked = false;
      propagateSkips();
    }
    // One pick per free slot: the first candidate by priority, then plan order (a pass over the candidates, not a
    // sort of all of them for each task started).
    while (!deps.signal.aborted && inflight.size < Math.max(1, plan.concurrency)) {
      const next = firstReady(candidates, (id) => (status.get(id) === "pending" ? planned.get(id) : undefined), order);
      const spec = next === undefined ? undefined : specs.get(next.id);
      if (spec === undefined) break;
      startTask(spec);
    }
    if (inflight.size === 0) break;
    await Promise.race(inflight.values());
  }

  if (deps.signal.aborted) {
    record({ type: "run.interrupted", run: runId, reason: "interrupted (SIGINT); `orc resume` continues" });
    return "interrupted";
  }
  const paused = plan.tasks.filter((t) => status.get(t.id) === "paused").map((t) => t.id);
  if (paused.length > 0) {
    const open = deps.store.snapshot(runId)?.breakpoints.filter((b) => b.status === "open").map((b) => b.id) ?? [];
    record({
      type: "run.paused",
      run: runId,
      breakpoints: open,
      reason: `task${paused.length === 1 ? "" : "s"} ${paused.join(", ")} wait${paused.length === 1 ? "s" : ""} for a human: \`orc breakpoints\`, \`orc resolve BP\`, then \`orc resume ${runId}\``,
    });
    return "paused";
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
  pausing: { readonly resumed: Extract<ResumeStep, { kind: "continue" }> | undefined; readonly pause: () => void },
): Promise<void> {
  const record = recorder(deps);
  // Committed with the first attempt's start and its agent's pid, or with whatever comes first: run/journal.ts.
  journalOf(deps).defer({ type: "task.started", run: target.runId, task: task.id });
  // A paused attempt does not count against max_attempts: what follows it is a human's call.
  let decided = row?.attempts.filter((a) => a.status === "decided" && a.decision !== "pause").length ?? 0;
  let note = pausing.resumed?.note ?? "";
  let resolvedAttempt = pausing.resumed?.resolvedAttempt ?? 0;
  /** With --wait, the human's resolution of breakpoint `id`; undefined when not waiting or interrupted. */
  const human = async (id: string): Promise<BreakpointRow | undefined> => {
    const bp = target.wait === true ? await waitForResolution(deps, id) : undefined;
    if (bp === undefined) pausing.pause();
    else record({ type: "task.started", run: target.runId, task: task.id });
    return bp;
  };
  let attempt = row?.attempts.reduce((max, a) => Math.max(max, a.attempt), 0) ?? 0;
  let previous = lastDecided(row);

  while (decided < task.maxAttempts) {
    if (deps.signal.aborted) return;
    // Budgets are checked before each attempt starts (run/budget.ts), from what the store says was spent.
    const overBudget = budgetCheck(() => deps.store.snapshot(target.runId), target.pipeline.budget, task.id, task.budget);
    if (overBudget !== undefined) {
      finish(task.id, "failed", overBudget);
      return;
    }
    attempt += 1;
    if (attempt !== resolvedAttempt) {
      const before = await checkBeforeTask(deps.store, record, { runId: target.runId, pipeline: target.pipeline, task, attempt });
      if (before?.decision === "fail") {
        finish(task.id, "failed", before.reasons.join("; "));
        return;
      }
      if (before?.pausedBy !== undefined) {
        const id = await openBreakpoint(deps, { run: target.runId, task: task.id, attempt, fired: before.pausedBy, reasons: before.reasons, files: [], gates: [] });
        const bp = await human(id);
        if (bp === undefined) return;
        if (bp.resolution === "reject") {
          finish(task.id, "failed", resolvedReason(bp));
          return;
        }
        // approve or retry: this attempt goes ahead, without asking the before_task rules again.
        note = bp.note ?? "";
        resolvedAttempt = attempt;
        attempt -= 1;
        continue;
      }
    }
    const end = await runAttempt(deps, {
      runId: target.runId,
      pipeline: target.pipeline,
      task,
      attempt,
      decidedBefore: decided,
      workspace: target.workspace,
      previous,
      note,
      ...(deps.projectSummary === undefined ? {} : { projectSummary: deps.projectSummary }),
    });
    note = "";
    if (end.kind === "interrupted") return;
    if (end.kind === "paused") {
      const bp = await human(end.breakpoint);
      if (bp === undefined) return;
      if (bp.resolution === "approve" || bp.resolution === "reject") {
        finish(task.id, bp.resolution === "approve" ? "accepted" : "failed", resolvedReason(bp));
        return;
      }
      note = bp.note ?? "";
      previous = end.previous;
      continue;
    }
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

/** The ready task to start next: highest priority, then earliest in the plan. */
function firstReady(
  candidates: ReadonlySet<string>,
  pendingTask: (id: string) => { readonly id: string; readonly priority: number } | undefined,
  order: ReadonlyMap<string, number>,
): { readonly id: string } | undefined {
  let best: { readonly id: string; readonly priority: number } | undefined;
  for (const id of candidates) {
    const t = pendingTask(id);
    if (t === undefined) continue;
    if (best === undefined || t.priority > best.priority || (t.priority === best.priority && (order.get(t.id) ?? 0) < (order.get(best.id) ?? 0))) best = t;
  }
  return best;
}
