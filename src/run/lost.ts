/**
 * Graceful degradation: an attempt whose agent or gate the transport lost (`transport-lost`: an SSH connection
 * dropped, a container died) was not judged, so it says nothing about the agent's work. Its files are put back where
 * the attempt started and the task runs a new attempt, which, like any interrupted one, does not count against
 * max_attempts; the transport reconnects (or starts a new container) on its next run(). With tasks side by side the
 * files stay as they are: putting the whole workspace back would undo the other tasks' work too (as src/run/undo.ts).
 * After LOSS_LIMIT losses in a row the task stops at a breakpoint whose reasons are the errors, for a human to look at
 * the host or the network.
 */
import type { EventInput, GateOutcome } from "../core/events.js";
import type { RuleSpec } from "../core/pipeline.js";
import { eachEvent, type AttemptRow, type StateStore } from "../state/port.js";
import type { CheckpointId } from "../workspace/port.js";
import type { RecordEvent, RunDeps } from "./deps.js";
import { sleep } from "./agent-call.js";
import { openBreakpoint } from "./pause.js";
import { restored } from "./undo.js";

/** Losses in a row after which the task waits for a human instead of trying again. */
export const LOSS_LIMIT = 3;

/** The pause before the rerun after the `losses`-th loss in a row: 0.5 s, then 1 s (doubling, at most 8 s). */
export function lossBackoffMs(losses: number): number {
  return Math.min(8000, 500 * 2 ** Math.max(0, losses - 1));
}

/** The rule the breakpoint names: raised by the run loop itself (no condition), so it cannot be disabled. */
export const TRANSPORT_LOST_RULE: RuleSpec = {
  id: "transport-lost",
  when: "the transport lost the attempt again and again",
  action: "pause",
  message: `the transport lost ${String(LOSS_LIMIT)} attempts in a row; check the host, container or connection, then \`orc resolve\` and \`orc resume\``,
  hook: "before_task",
  source: "builtin",
};

/**
 * Ends a lost attempt: the workspace back at `before` (the checkpoint the attempt started from) when this task runs
 * alone or in a directory of its own (tasks side by side), and the attempt closed as interrupted with the loss in words, so `orc status` and `orc logs` show why it ran
 * again.
 */
export async function endLostAttempt(
  deps: RunDeps,
  record: RecordEvent,
  at: { readonly runId: string; readonly task: string; readonly attempt: number; readonly before: CheckpointId; readonly concurrency: number },
  lost: string,
): Promise<void> {
  if ((at.concurrency === 1 || deps.isolation !== undefined) && (await restored(deps, at.before))) record({ type: "workspace.restored", run: at.runId, task: at.task, checkpoint: at.before, why: "transport-lost" });
  const event: EventInput = { type: "attempt.interrupted", run: at.runId, task: at.task, attempt: at.attempt, lost };
  record(event);
}

/** Whether the transport lost this attempt (its agent, or a gate), as `orc status` counts it. */
export function wasLost(attempt: AttemptRow): boolean {
  return attempt.status === "interrupted" && (attempt.agent?.end === "transport-lost" || attempt.gates.some((g) => g.end === "transport-lost"));
}

/**
 * Whether the attempt was closed as lost (attempt.interrupted with `lost`), which happens only after its files were put
 * back: one that orc died in the middle of ending is not, and resume puts it back as any interrupted attempt.
 */
export function closedAsLost(store: Pick<StateStore, "events">, runId: string, task: string, attempt: number): boolean {
  for (const { event: e } of eachEvent(store, runId)) {
    if (e.type === "attempt.interrupted" && e.task === task && e.attempt === attempt && e.lost !== undefined) return true;
  }
  return false;
}

/** Opens the breakpoint after LOSS_LIMIT losses in a row; `next` is the attempt that would run, as for a before_task rule. */
export function pauseAfterLosses(deps: RunDeps, at: { readonly runId: string; readonly task: string; readonly next: number }, losses: readonly string[]): Promise<string> {
  return openBreakpoint(deps, {
    run: at.runId,
    task: at.task,
    attempt: at.next,
    fired: { rule: TRANSPORT_LOST_RULE, action: "pause", message: TRANSPORT_LOST_RULE.message ?? "" },
    reasons: losses,
    files: [],
    gates: [],
  });
}

/**
 * A gate run outside an attempt (a baseline, a merge gate), again after a short pause when the transport lost it (a
 * loss says nothing about the tests), up to LOSS_LIMIT times; the last loss is what is kept then.
 */
export async function gateRunAgainIfLost(deps: RunDeps, run: () => Promise<GateOutcome>): Promise<GateOutcome> {
  for (let losses = 1; ; losses++) {
    const result = await run();
    if (result.end !== "transport-lost" || losses >= LOSS_LIMIT || deps.signal.aborted) return result;
    await sleep(lossBackoffMs(losses), deps.signal);
  }
}
