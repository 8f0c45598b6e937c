/**
 * The baseline: before a task's first attempt, its command gates run once on the untouched workspace. An attempt is
 * then compared with it (src/run/decide.ts): a gate that counts fewer tests than before, or none, means tests were
 * removed, renamed away or switched off, whatever the gate's exit code says. Judge gates have nothing to judge yet.
 */
import type { GateOutcome } from "../core/events.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import { eachEvent, type TaskRow } from "../state/port.js";
import { recorder, type RunDeps } from "./deps.js";
import { gateRunAgainIfLost } from "./lost.js";

export interface BaselineInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  /** What the DB holds of the task: a task with attempts already gets no new baseline (its start is gone). */
  readonly row: TaskRow | undefined;
}

/**
 * The task's baseline gate results: run now before the first attempt (each recorded as `baseline.finished`), or the
 * recorded ones for a task that already had attempts (a resumed run). Empty with `baseline: false`, when none was
 * recorded, or when the run was interrupted meanwhile.
 */
export async function taskBaseline(deps: RunDeps, input: BaselineInput): Promise<readonly GateOutcome[]> {
  const { runId, task } = input;
  if (task.baseline === false) return [];
  // A task with no attempt yet has its untouched workspace: run (again, after a crash before its first attempt). One
  // with attempts reads what was recorded: the ledger is read only on resume, never on a fresh run's path.
  if ((input.row?.attempts.length ?? 0) > 0) return recordedBaseline(deps, runId, task.id);
  const record = recorder(deps);
  const results: GateOutcome[] = [];
  const place = await deps.placeFor(task);
  for (const gateId of task.gates) {
    const spec = input.pipeline.gates[gateId];
    if (spec?.kind !== "command") continue;
    const result = await gateRunAgainIfLost(deps, () => deps.gates.run(spec, { workspace: deps.workspace.dir, transport: place.transport, env: place.env, signal: deps.signal }));
    if (deps.signal.aborted) return [];
    record({ type: "baseline.finished", run: runId, task: task.id, result });
    results.push(result);
  }
  return results;
}

/** The last recorded baseline result of each gate of the task (a baseline rerun after a crash supersedes the first). */
function recordedBaseline(deps: RunDeps, runId: string, taskId: string): GateOutcome[] {
  const byGate = new Map<string, GateOutcome>();
  for (const { event } of eachEvent(deps.store, runId)) if (event.type === "baseline.finished" && event.task === taskId) byGate.set(event.result.gate, event.result);
  return [...byGate.values()];
}
