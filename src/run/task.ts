import type { TaskSpec } from "../core/pipeline.js";
import { describePrevious, type PreviousAttempt } from "../prompts/context.js";
import { checkBeforeTask } from "../rules/attempt-rules.js";
import type { BreakpointRow, TaskRow } from "../state/port.js";
import { runAttempt, type AttemptEnd } from "./attempt.js";
import { taskBaseline } from "./baseline.js";
import { budgetCheck } from "./budget.js";
import { recorder, type RunDeps } from "./deps.js";
import type { RunTarget } from "./target.js";
import { openBreakpoint } from "./pause.js";
import { LOSS_LIMIT, lossBackoffMs, pauseAfterLosses } from "./lost.js";
import { sleep } from "./agent-call.js";
import { resolvedReason, type ResumeStep } from "./resolutions.js";
import { waitForResolution } from "./wait.js";

export interface TaskRunInput {
  readonly target: RunTarget;
  readonly task: TaskSpec;
  /** What the DB holds of the task (a resumed run), if anything. */
  readonly row: TaskRow | undefined;
  /** A paused task a human resolved: its note and the attempt the before_task rules already passed. */
  readonly resumed: Extract<ResumeStep, { kind: "continue" }> | undefined;
  /** Records the task's end (a failed task's work undone first) and lets the scheduler move on. */
  readonly finish: (task: string, final: "accepted" | "failed", reason: string) => Promise<void>;
  /** The task now waits for a human. */
  readonly pause: () => void;
}

/** The evidence of a task's last decided attempt, as the next prompt sees it (used when resuming). */
function lastDecided(row: TaskRow | undefined): PreviousAttempt | null {
  const attempt = row?.attempts.filter((a) => a.status === "decided" && a.rolledBack !== true).at(-1);
  if (attempt === undefined) return null;
  return describePrevious({ attempt: attempt.attempt, reasons: attempt.reasons, agent: attempt.agent, gates: attempt.gates, files: attempt.changes?.files ?? [] });
}

/**
 * One task: attempts until one is accepted, the task fails, attempts run out, or a breakpoint pauses it. Budgets and
 * before_task rules are checked before each attempt; a human's resolution (with --wait, in place) decides what a
 * breakpoint leads to. An attempt the transport lost runs again after a short pause, up to LOSS_LIMIT in a row
 * (src/run/lost.ts).
 */
export async function runTask(deps: RunDeps, input: TaskRunInput): Promise<void> {
  const { target, task, finish } = input;
  const record = recorder(deps);
  record({ type: "task.started", run: target.runId, task: task.id });
  // A paused attempt does not count against max_attempts (what follows it is a human's call), nor does one rolled back.
  let decided = input.row?.attempts.filter((a) => a.status === "decided" && a.decision !== "pause" && a.rolledBack !== true).length ?? 0;
  let note = input.resumed?.note ?? "";
  let resolvedAttempt = input.resumed?.resolvedAttempt ?? 0;
  let attempt = input.row?.attempts.reduce((max, a) => Math.max(max, a.attempt), 0) ?? 0;
  let previous = lastDecided(input.row);
  /** The errors of the attempts the transport lost in a row, the evidence of the breakpoint after LOSS_LIMIT. */
  let losses: string[] = [];
  const baseline = await taskBaseline(deps, { runId: target.runId, pipeline: target.pipeline, task, row: input.row });

  /** With --wait, the human's resolution of breakpoint `id`; undefined when not waiting or interrupted. */
  const human = async (id: string): Promise<BreakpointRow | undefined> => {
    const bp = target.wait === true ? await waitForResolution(deps, id) : undefined;
    if (bp === undefined) input.pause();
    else record({ type: "task.started", run: target.runId, task: task.id });
    return bp;
  };

  while (decided < task.maxAttempts) {
    if (deps.signal.aborted) return;
    const overBudget = budgetCheck(() => deps.store.snapshot(target.runId), target.pipeline.budget, task.id, task.budget);
    if (overBudget !== undefined) {
      await finish(task.id, "failed", overBudget);
      return;
    }
    attempt += 1;
    if (attempt !== resolvedAttempt) {
      const gate = await beforeTaskRules(deps, input, attempt, human);
      if (gate.kind === "stop") return;
      if (gate.kind === "resolved") {
        // approve or retry: this attempt goes ahead, without asking the before_task rules again.
        note = gate.note;
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
      previous,
      note,
      ...(deps.projectSummary === undefined ? {} : { projectSummary: deps.projectSummary }),
      baseline,
    });
    if (end.kind === "lost") {
      // Not the agent's doing: the same prompt and note again, without asking the before_task rules twice.
      losses = [...losses, `attempt ${String(attempt)}: ${end.error}`];
      if (resolvedAttempt === attempt) resolvedAttempt = attempt + 1;
      if (losses.length < LOSS_LIMIT) {
        await sleep(lossBackoffMs(losses.length), deps.signal);
        continue;
      }
      const id = await pauseAfterLosses(deps, { runId: target.runId, task: task.id, next: attempt + 1 }, losses);
      losses = [];
      const bp = await human(id);
      if (bp === undefined) return;
      if (bp.resolution === "reject") {
        await finish(task.id, "failed", resolvedReason(bp));
        return;
      }
      note = bp.note ?? "";
      resolvedAttempt = attempt + 1;
      continue;
    }
    losses = [];
    note = "";
    const next = await afterAttempt(end, input, human);
    if (next.kind === "stop") return;
    if (next.kind === "again") {
      note = next.note;
      previous = next.previous;
      continue;
    }
    decided += 1;
    previous = next.previous;
  }
  await finish(task.id, "failed", `no attempts left (${String(decided)} of ${String(task.maxAttempts)})`);
}

type Human = (id: string) => Promise<BreakpointRow | undefined>;

/** The before_task hook: go ahead, stop (failed, or paused for a human), or go ahead with a human's note. */
async function beforeTaskRules(
  deps: RunDeps,
  input: TaskRunInput,
  attempt: number,
  human: Human,
): Promise<{ kind: "go" } | { kind: "stop" } | { kind: "resolved"; note: string }> {
  const { target, task, finish } = input;
  const before = await checkBeforeTask(deps.store, recorder(deps), { runId: target.runId, pipeline: target.pipeline, task, attempt });
  if (before?.decision === "fail") {
    await finish(task.id, "failed", before.reasons.join("; "));
    return { kind: "stop" };
  }
  if (before?.pausedBy === undefined) return { kind: "go" };
  const id = await openBreakpoint(deps, { run: target.runId, task: task.id, attempt, fired: before.pausedBy, reasons: before.reasons, files: [], gates: [] });
  const bp = await human(id);
  if (bp === undefined) return { kind: "stop" };
  if (bp.resolution === "reject") {
    await finish(task.id, "failed", resolvedReason(bp));
    return { kind: "stop" };
  }
  return { kind: "resolved", note: bp.note ?? "" };
}

/**
 * What an attempt's end means for its task: stop (accepted, failed, paused, interrupted), another attempt that does
 * not count (a human asked for it), or the next attempt after a decided retry.
 */
async function afterAttempt(
  end: Exclude<AttemptEnd, { kind: "lost" }>,
  input: TaskRunInput,
  human: Human,
): Promise<{ kind: "stop" } | { kind: "again"; note: string; previous: PreviousAttempt } | { kind: "retry"; previous: PreviousAttempt }> {
  const { task, finish } = input;
  switch (end.kind) {
    case "interrupted":
      return { kind: "stop" };
    case "prompt-error":
      await finish(task.id, "failed", `prompt could not be rendered: ${end.message}`);
      return { kind: "stop" };
    case "paused": {
      const bp = await human(end.breakpoint);
      if (bp === undefined) return { kind: "stop" };
      if (bp.resolution === "approve" || bp.resolution === "reject") {
        await finish(task.id, bp.resolution === "approve" ? "accepted" : "failed", resolvedReason(bp));
        return { kind: "stop" };
      }
      return { kind: "again", note: bp.note ?? "", previous: end.previous };
    }
    case "decided":
      if (end.decision === "accept" || end.decision === "fail") {
        await finish(task.id, end.decision === "accept" ? "accepted" : "failed", end.reasons.join("; "));
        return { kind: "stop" };
      }
      return { kind: "retry", previous: end.previous };
  }
}
