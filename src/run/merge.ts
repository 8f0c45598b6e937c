/**
 * The merge queue, for tasks side by side (`concurrency` above 1). Each running task works in a directory of its
 * own (the workspace port's `TaskWorkspaces`), made from the run's workspace as the task's needs left it. An accepted
 * attempt's work (from the task's base to what was accepted) is merged into the run's workspace one task at a time:
 * a three-way merge in the checkpoint store against the workspace as it is now, the merged files written, then the
 * task's merge gates (`merge_gates:`, by default its own gates) run on the result in the run's workspace. A conflict
 * or a failing merge gate takes the merge back and sends the task back for another attempt, on a directory made
 * anew from the workspace as it is now, with the conflict or the gate's failure as the attempt's reasons (so the
 * retry prompt shows them); when no attempt is left, the task pauses at a breakpoint (`merge-failed`).
 *
 * Dependent tasks start only once their needs are accepted, that is merged: plan order holds where it matters, and
 * independent tasks merge in the order they finish.
 */
import type { GateOutcome } from "../core/events.js";
import type { Pipeline, RuleSpec, TaskSpec } from "../core/pipeline.js";
import type { AttemptEvidence } from "../quality/port.js";
import type { FiredRule } from "../rules/engine.js";
import { gateRunAgainIfLost } from "./lost.js";
import { transportIn } from "./scoped-transport.js";
import type { CheckpointId, Workspace } from "../workspace/port.js";
import { recorder, type Place, type RecordEvent, type RunDeps, type TaskIsolation } from "./deps.js";

/** The breakpoint a task pauses at when its work cannot be merged and no attempt is left. */
export const MERGE_FAILED_RULE: RuleSpec = {
  id: "merge-failed",
  when: "false",
  action: "pause",
  message: "the task's work does not merge into the workspace and no attempt is left",
  hook: "after_attempt",
  source: "builtin",
};

export function mergeFailed(reasons: readonly string[]): FiredRule {
  return { rule: MERGE_FAILED_RULE, action: "pause", message: `${MERGE_FAILED_RULE.message ?? ""}: ${reasons.join("; ")}` };
}

/**
 * The run's workspace at a checkpoint, and where that stands in the run's ledger: every merge whose `merge.started` is
 * at or after `mergesFrom` is not in it (what `orc rollback` undoes with a task that started from it).
 */
export interface Head {
  readonly checkpoint: CheckpointId;
  readonly mergesFrom: number;
}

/**
 * One merge at a time. It also knows the checkpoint the run's workspace is at (`head`: taken once, then what each
 * merge leaves), so a task's directory is made from it without waiting for a merge in progress nor recording the
 * run's workspace again.
 */
export class MergeQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private head: Promise<Head> | undefined;
  /** Where the merges not yet in a fresh recording start: after the last merge's end, else after the run's start. */
  private settledUpTo: number;

  /** `startedSeq`: the ledger position of this process's `run.started`; every merge before it has ended. */
  constructor(startedSeq: number) {
    this.settledUpTo = startedSeq + 1;
  }

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** The run's workspace as the last merge left it (recorded now, in turn, the first time). */
  current(workspace: Workspace): Promise<Head> {
    // In turn: no merge is half done, so the recording holds every merge that ended and none that is to come.
    const head = (this.head ??= this.run(async () => ({ checkpoint: await workspace.checkpointBefore(), mergesFrom: this.settledUpTo })));
    // A recording that failed is not kept: the next task asks again rather than failing the same way.
    head.catch(() => {
      if (this.head === head) this.head = undefined;
    });
    return head;
  }

  /** Merges through the queue (run/merge.ts mergeInto) and keeps the checkpoint it leaves the workspace at. */
  merge(deps: RunDeps, record: RecordEvent, input: MergeInput): Promise<MergeOutcome> {
    return this.run(async () => {
      const end = await mergeInto(deps, record, input);
      // Interrupted: unknown until the next recording.
      if (end.kind === "interrupted") {
        this.head = undefined;
      } else {
        this.settledUpTo = end.now.mergesFrom;
        this.head = Promise.resolve(end.now);
      }
      return end;
    });
  }
}

/** Where a resumed task's directory starts: the base its earlier attempts were made on, and the files to hold. */
export interface IsolatedStart {
  readonly base: Head;
  readonly from: CheckpointId;
}

/**
 * The deps of `task` working in a directory of its own: made now from the checkpoint the queue's last merge left
 * (never from a merge half-written), or from `start` on resume. Its agent, gates, rules, judge, checkpoints and
 * change set then see only that directory; its transport carries the directory as each process's workspace.
 */
export async function isolateTask(deps: RunDeps, queue: MergeQueue, input: { readonly runId: string; readonly pipeline: Pipeline; readonly task: TaskSpec; readonly start?: IsolatedStart }): Promise<RunDeps> {
  const tasks = deps.taskWorkspaces;
  if (tasks === undefined) return deps;
  const record = recorder(deps);
  const { runId, task } = input;
  let base = input.start?.base ?? (await queue.current(deps.workspace));
  const workspace: Workspace = await tasks.open(task.id, input.start?.from ?? base.checkpoint);
  record({ type: "task.isolated", run: runId, task: task.id, dir: workspace.dir, base: base.checkpoint, mergesFrom: base.mergesFrom });
  let merged = false;
  const isolation: TaskIsolation = {
    base: () => base.checkpoint,
    merged: () => merged,
    merge: async (request) => {
      const end = await queue.merge(deps, record, { runId, pipeline: input.pipeline, task, base: base.checkpoint, ...request });
      if (end.kind === "merged") merged = true;
      if (end.kind !== "refused") return end;
      // Another attempt, on top of the workspace as it is now (what merged since, without this task's work).
      base = end.now;
      await workspace.restore(base.checkpoint);
      record({ type: "task.isolated", run: runId, task: task.id, dir: workspace.dir, base: base.checkpoint, mergesFrom: base.mergesFrom });
      return { kind: "refused", reasons: end.reasons };
    },
  };
  const placeFor = async (of: TaskSpec): Promise<Place> => {
    const place = await deps.placeFor(of);
    return { ...place, transport: transportIn(place.transport, workspace.dir) };
  };
  return { ...deps, workspace, placeFor, isolation };
}

/**
 * Merges a task's work (`base` → `accepted`) into the run's workspace and runs the merge gates there; on a conflict
 * or a failed gate the workspace is left (or put back) as it was, `now`. Call through the queue.
 */
export interface MergeInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  readonly attempt: number;
  readonly base: CheckpointId;
  readonly accepted: CheckpointId;
  readonly evidence?: AttemptEvidence;
}

/** `now`: the checkpoint the run's workspace is at afterwards, every merge that ended in it. */
export type MergeOutcome =
  | { readonly kind: "merged"; readonly now: Head }
  | { readonly kind: "refused"; readonly reasons: readonly string[]; readonly now: Head }
  | { readonly kind: "interrupted" };

async function mergeInto(deps: RunDeps, record: RecordEvent, input: MergeInput): Promise<MergeOutcome> {
  const tasks = deps.taskWorkspaces;
  if (tasks === undefined) return { kind: "interrupted" }; // unreachable: isolated tasks come with task workspaces
  const { runId, task, attempt } = input;
  const now = await deps.workspace.checkpointBefore();
  const result = await tasks.merge(input.base, now, input.accepted);
  if ("conflicts" in result) {
    const finished = record({ type: "merge.finished", run: runId, task: task.id, attempt, status: "conflict", checkpoint: now, paths: result.conflicts, gates: [] });
    const reasons = [
      `merge conflict in ${result.conflicts.join(", ")}: work merged into the workspace since this task started changed the same lines; the next attempt starts from the workspace as it is now, with that work in it`,
    ];
    return { kind: "refused", reasons, now: { checkpoint: now, mergesFrom: finished.seq + 1 } };
  }
  record({ type: "merge.started", run: runId, task: task.id, attempt, before: now, checkpoint: result.checkpoint });
  if (result.checkpoint !== now) await deps.workspace.restore(result.checkpoint);
  const gates = await mergeGates(deps, input);
  if (gates === undefined || gates.some((g) => !g.passed)) {
    if (result.checkpoint !== now) await deps.workspace.restore(now);
    // Interrupted: merge.started stays unfinished, and a resume puts the workspace back at `now` (it already is).
    if (gates === undefined) return { kind: "interrupted" };
    const finished = record({ type: "merge.finished", run: runId, task: task.id, attempt, status: "gate-failed", checkpoint: now, paths: [], gates });
    const reasons = gates.filter((g) => !g.passed).map((g) => `merge gate ${g.gate} failed on the workspace with this task's work merged in: ${g.summary}`);
    return { kind: "refused", reasons, now: { checkpoint: now, mergesFrom: finished.seq + 1 } };
  }
  const finished = record({ type: "merge.finished", run: runId, task: task.id, attempt, status: "merged", checkpoint: result.checkpoint, paths: [], gates });
  return { kind: "merged", now: { checkpoint: result.checkpoint, mergesFrom: finished.seq + 1 } };
}

/** The task's merge gates on the run's workspace, in the run's transport; undefined when the run was interrupted. */
async function mergeGates(deps: RunDeps, input: { readonly runId: string; readonly pipeline: Pipeline; readonly task: TaskSpec; readonly attempt: number; readonly evidence?: AttemptEvidence }): Promise<GateOutcome[] | undefined> {
  const outcomes: GateOutcome[] = [];
  const place = await deps.placeFor(input.task);
  for (const id of input.task.mergeGates ?? input.task.gates) {
    const spec = input.pipeline.gates[id];
    if (spec === undefined) continue;
    const evidence: AttemptEvidence = input.evidence ?? { runId: input.runId, taskId: input.task.id, attempt: input.attempt, taskPrompt: "", claims: "", files: [], diff: () => Promise.resolve(""), gates: [] };
    const result = await gateRunAgainIfLost(deps, () => deps.gates.run(spec, { workspace: deps.workspace.dir, transport: place.transport, env: place.env, signal: deps.signal, evidence: { ...evidence, gates: [...outcomes] } }));
    if (deps.signal.aborted) return undefined;
    outcomes.push(result);
  }
  return outcomes;
}
