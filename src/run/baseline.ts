/**
 * The baseline: before a task's first attempt, its command gates run once on the untouched workspace. An attempt is
 * then compared with it (src/run/decide.ts): a gate that counts fewer tests than before, or none, means tests were
 * removed, renamed away or switched off, whatever the gate's exit code says. Judge gates have nothing to judge yet.
 */
import type { GateOutcome } from "../core/events.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import type { TaskRow } from "../state/port.js";
import { recorder, type RunDeps } from "./deps.js";

export interface BaselineInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  /** What the DB holds of the task: a task with attempts already gets no new baseline (its start is gone). */
  readonly row: TaskRow | undefined;
}

/**
 * The task's baseline gate results: the recorded ones when the run resumes, else run now (and recorded, one
 * `baseline.finished` per gate). Empty with `baseline: false`, for a task that already had attempts, or when the run
 * was interrupted meanwhile.
 */
export async function taskBaseline(deps: RunDeps, input: BaselineInput): Promise<readonly GateOutcome[]> {
  const { runId, task } = input;
  if (task.baseline === false) return [];
  const recorded: GateOutcome[] = [];
  for (const { event } of deps.store.events(runId)) if (event.type === "baseline.finished" && event.task === task.id) recorded.push(event.result);
  if (recorded.length > 0 || (input.row?.attempts.length ?? 0) > 0) return recorded;
  const record = recorder(deps);
  const results: GateOutcome[] = [];
  for (const gateId of task.gates) {
    const spec = input.pipeline.gates[gateId];
    if (spec?.kind !== "command") continue;
    const result = await deps.gates.run(spec, { workspace: deps.workspace.dir, transport: deps.transport, env: deps.env, signal: deps.signal });
    if (deps.signal.aborted) return [];
    record({ type: "baseline.finished", run: runId, task: task.id, result });
    results.push(result);
  }
  return results;
}
