import { mkdirSync } from "node:fs";
import type { TaskSpec } from "../core/pipeline.js";
import type { TaskRow } from "../state/port.js";
import { stateLost } from "../state/port.js";
import { recorder, type RecordEvent, type RunDeps } from "./deps.js";
import { attemptKey, spawnedProcesses } from "./orphans.js";
import { resumeStep, type ResumeStep } from "./resolutions.js";
import { Scheduler, type FinalStatus } from "./scheduler.js";
import type { RunTarget } from "./target.js";
import { runTask } from "./task.js";
import { isolateTask } from "./merge.js";
import { mergeApproved, prepareIsolation, startOf } from "./isolation.js";
import { restored, undoFailedTask } from "./undo.js";
import { closedAsLost } from "./lost.js";
import { baseKey, mergedUndecided } from "./isolated-resume.js";
import { settledTasks } from "./settled.js";

export type { RunTarget } from "./target.js";

/** `paused`: a task waits at a breakpoint for `orc resolve` (and the work that could run without it has run). */
export type RunEnd = "succeeded" | "failed" | "interrupted" | "paused";


/**
 * The orchestrator loop: start ready tasks in priority then plan order, up to `concurrency` at once; skip the
 * dependents of a failed task; stop starting work once the run's signal aborts. Everything it knows at start comes
 * from the DB, so a fresh run and a resumed one take the same path.
 */
export async function executeRun(deps: RunDeps, target: RunTarget): Promise<RunEnd> {
  const { runId, pipeline, plan } = target;
  const record = recorder(deps);
  mkdirSync(deps.promptDir, { recursive: true });
  const started = record({
    type: "run.started",
    run: runId,
    resumed: target.resumed,
    pid: process.pid,
    ...(target.lease === undefined ? {} : { lease: target.lease }),
    ...(target.takeover === undefined ? {} : { takeover: target.takeover }),
  });

  const snapshot = deps.store.snapshot(runId);
  const rows = new Map((snapshot?.tasks ?? []).map((t) => [t.id, t]));
  const mergedBeforeStop = await closeUnfinishedAttempts(deps, record, target, [...rows.values()]);
  if (target.resumed && plan.concurrency === 1) await undoUnfinishedAttempt(deps, record, runId, [...rows.values()]);
  const isolated = deps.taskWorkspaces === undefined ? undefined : await prepareIsolation(deps, record, target, started.seq);

  // Paused tasks: a breakpoint still open keeps waiting; a resolved one is applied (docs/rules.md).
  const steps = new Map<string, ResumeStep>();
  for (const t of plan.tasks) {
    const step = resumeStep(rows.get(t.id), snapshot?.breakpoints ?? []);
    if (step !== undefined) steps.set(t.id, step);
  }
  const scheduler = new Scheduler(plan, (id) => {
    const stored = rows.get(id)?.status ?? "pending";
    if (steps.get(id)?.kind === "wait") return "paused";
    return stored === "paused" ? "pending" : stored;
  });
  const finish = async (task: string, final: FinalStatus, reason: string): Promise<void> => {
    if (final === "failed") await undoFailedTask(deps, record, target, task);
    record({ type: "task.finished", run: runId, task, status: final, reason });
    scheduler.finished(task, final);
  };
  const removals: Promise<unknown>[] = [];
  /** Tasks side by side: approved work is merged first (a resolved breakpoint); the task's directory goes. */
  const finishIsolated = async (task: string, final: FinalStatus, reason: string, merged: boolean): Promise<void> => {
    if (isolated === undefined) return finish(task, final, reason);
    let end = { final, reason };
    if (final === "accepted" && !merged) {
      const refused = await mergeApproved(deps, isolated.queue, { target, task, specs: pipeline.tasks });
      if (refused === "interrupted") return;
      if (refused !== undefined) end = { final: "failed", reason: `${reason}, but ${refused.join("; ")}` };
    }
    await finish(task, end.final, end.reason);
    // In the background: the next task need not wait for a directory to be deleted, nor for its container or remote
    // copy to go.
    const tasks = deps.taskWorkspaces;
    const spec = pipeline.tasks.find((t) => t.id === task);
    if (tasks !== undefined) removals.push(tasks.remove(task).catch(() => undefined));
    if (tasks !== undefined && spec !== undefined) removals.push(deps.placeFor(spec).then((place) => place.transport.release?.(tasks.dirOf(task))).catch(() => undefined));
  };
  // Decided before orc stopped, with the task's end not yet recorded (run/settled.ts): it ends now as decided, its
  // work (merged, side by side) in place, rather than running another attempt.
  for (const settled of settledTasks(deps.store, runId, [...rows.values()], mergedBeforeStop)) {
    await finishIsolated(settled.task, settled.final, settled.reason, true);
  }
  for (const [task, step] of steps) {
    if (step.kind === "accept") await finishIsolated(task, "accepted", step.reason, false);
    if (step.kind === "fail") await finish(task, "failed", step.reason);
  }

  const specs = new Map(pipeline.tasks.map((t) => [t.id, t]));
  const inflight = new Map<string, Promise<void>>();
  const start = (spec: TaskSpec): void => {
    scheduler.started(spec.id);
    const step = steps.get(spec.id);
    const work = async (): Promise<void> => {
      // Tasks side by side: the task works in a directory of its own (run/merge.ts).
      const taskDeps = isolated === undefined ? deps : await isolateTask(deps, isolated.queue, { runId, pipeline, task: spec, ...startOf(isolated.ledger, rows.get(spec.id)) });
      await runTask(taskDeps, {
        target,
        task: spec,
        row: rows.get(spec.id),
        resumed: step?.kind === "continue" ? step : undefined,
        finish: (task, final, reason) => finishIsolated(task, final, reason, taskDeps.isolation?.merged() === true),
        pause: () => {
          scheduler.paused(spec.id);
        },
      });
    };
    inflight.set(spec.id, work().finally(() => inflight.delete(spec.id)));
  };

  for (;;) {
    for (const skip of scheduler.skips()) await finish(skip.id, "skipped", skip.reason);
    while (!deps.signal.aborted && stateLost(deps.store) === undefined && inflight.size < Math.max(1, plan.concurrency)) {
      const next = scheduler.next();
      const spec = next === undefined ? undefined : specs.get(next.id);
      if (spec === undefined) break;
      start(spec);
    }
    if (inflight.size === 0) break;
    await Promise.race(inflight.values());
  }
  // Every task directory goes, whatever the end: a paused or interrupted task's is made again on resume.
  await Promise.all(removals);
  await deps.taskWorkspaces?.removeAll();
  return recordRunEnd(deps, record, target, scheduler);
}

/**
 * A crash or kill -9 leaves attempts marked running: close them so they neither count nor block. Their agents may
 * still be running (in their own process groups, out of the dead orc's reach): stop them before anything new starts
 * in the same workspace.
 */
async function closeUnfinishedAttempts(deps: RunDeps, record: RecordEvent, target: RunTarget, rows: readonly TaskRow[]): Promise<Map<string, number>> {
  const { runId } = target;
  const unfinished = rows.flatMap((row) => row.attempts.filter((a) => a.status === "running").map((a) => ({ task: row.id, attempt: a.attempt })));
  const spawned = spawnedProcesses(deps.store, runId, new Set(unfinished.map((u) => attemptKey(u.task, u.attempt))));
  const merged = unfinished.length === 0 ? new Set<string>() : mergedUndecided(deps.store, runId);
  const accepted = new Map<string, number>();
  for (const { task, attempt } of unfinished) {
    if (merged.has(baseKey(task, attempt))) {
      // Its work is in the workspace already: orc stopped after the merge, before it recorded the decision.
      record({ type: "attempt.decided", run: runId, task, attempt, decision: "accept", reasons: ["merged into the workspace before orc stopped"] });
      accepted.set(task, attempt);
      continue;
    }
    const orphan = spawned.get(attemptKey(task, attempt));
    // The orphan ran in its task's transport: only that one knows how to reach it (a process group, a container).
    const spec = target.pipeline.tasks.find((t) => t.id === task);
    const transport = orphan === undefined || spec === undefined ? undefined : (await deps.placeFor(spec)).transport;
    const stopped = orphan !== undefined && transport?.stopOrphan?.(orphan) === true;
    record({ type: "attempt.interrupted", run: runId, task, attempt, ...(stopped ? { orphanStopped: orphan.pid } : {}) });
  }
  return accepted;
}

/**
 * The attempt that was in flight when the run stopped (a crash, kill -9, SIGINT) may have changed files before it
 * died: put the workspace back as that attempt found it, so the attempt runs again from the same files and its
 * effect happens once. With tasks side by side this would undo the others' work too, so only one at a time.
 */
async function undoUnfinishedAttempt(deps: RunDeps, record: RecordEvent, runId: string, rows: readonly TaskRow[]): Promise<void> {
  const last = rows
    .filter((row) => row.status !== "accepted" && row.status !== "failed" && row.status !== "skipped")
    .flatMap((row) => row.attempts.filter((a) => a.rolledBack !== true).map((a) => ({ task: row.id, attempt: a })))
    .reduce<{ task: string; attempt: TaskRow["attempts"][number] } | undefined>((latest, a) => (latest === undefined || a.attempt.startedAt >= latest.attempt.startedAt ? a : latest), undefined);
  // A lost attempt's files were put back when it ended; a human may have worked in the workspace since (a breakpoint).
  if (last === undefined || last.attempt.status === "decided" || last.attempt.checkpoint === undefined) return;
  if (closedAsLost(deps.store, runId, last.task, last.attempt.attempt)) return;
  if (!(await restored(deps, last.attempt.checkpoint))) return;
  record({ type: "workspace.restored", run: runId, task: last.task, checkpoint: last.attempt.checkpoint, why: "resumed" });
}

function recordRunEnd(deps: RunDeps, record: RecordEvent, target: RunTarget, scheduler: Scheduler): RunEnd {
  const { runId, plan } = target;
  if (deps.signal.aborted) {
    record({ type: "run.interrupted", run: runId, reason: "interrupted (SIGINT); `orc resume` continues" });
    return "interrupted";
  }
  const lost = stateLost(deps.store);
  if (lost !== undefined) {
    record({ type: "run.interrupted", run: runId, reason: `its state database was deleted during the run and written back; \`orc resume ${runId}\` continues` });
    return "interrupted";
  }
  const paused = scheduler.withStatus("paused");
  if (paused.length > 0) {
    const open = deps.store.snapshot(runId)?.breakpoints.filter((b) => b.status === "open").map((b) => b.id) ?? [];
    const one = paused.length === 1;
    record({
      type: "run.paused",
      run: runId,
      breakpoints: open,
      reason: `task${one ? "" : "s"} ${paused.join(", ")} wait${one ? "s" : ""} for a human: \`orc breakpoints\`, \`orc resolve BP\`, then \`orc resume ${runId}\``,
    });
    return "paused";
  }
  const notAccepted = plan.tasks.filter((t) => scheduler.statusOf(t.id) !== "accepted").map((t) => `${t.id} ${scheduler.statusOf(t.id)}`);
  const end = notAccepted.length === 0 ? "succeeded" : "failed";
  record({
    type: "run.finished",
    run: runId,
    status: end,
    reason: end === "succeeded" ? `all ${String(plan.tasks.length)} tasks accepted` : `not accepted: ${notAccepted.join(", ")}`,
  });
  return end;
}
