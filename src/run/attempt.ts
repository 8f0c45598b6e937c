import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentOutcome, Decision, GateOutcome } from "../core/events.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import { describePrevious, type PreviousAttempt } from "../prompts/context.js";
import type { AttemptEvidence } from "../quality/port.js";
import { decideWithRules } from "../rules/attempt-rules.js";
import { stateLost } from "../state/port.js";
import type { ChangeSet, CheckpointId } from "../workspace/port.js";
import { callAgent } from "./agent-call.js";
import { agentProblem, decide } from "./decide.js";
import { recorder, type MergeEnd, type Place, type RecordEvent, type RunDeps, type TaskIsolation } from "./deps.js";
import { endLostAttempt } from "./lost.js";
import { openBreakpoint } from "./pause.js";
import { renderPrompt, renderTaskPrompt, rewriteRetry } from "./prompt.js";
import { mergeFailed } from "./merge.js";
import { ownTaskStart, restored as restoredTo } from "./undo.js";
import { describeRestored, hideFiles, restoreProtected, unhideFiles, type RestoredPath } from "./held-out.js";

export interface AttemptInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  readonly attempt: number;
  /** Attempts that reached a decision before this one (interrupted ones do not count). */
  readonly decidedBefore: number;
  readonly previous: PreviousAttempt | null;
  /** What earlier tasks did (src/prompts/summary.ts), offered to templates as `project.summary`. */
  readonly projectSummary?: () => string;
  /** The note of the human who resolved this task's last breakpoint, for the next prompt ("" or absent: none). */
  readonly note?: string;
  /** The task's gates before its first attempt (src/run/baseline.ts); an attempt must not run fewer tests. */
  readonly baseline?: readonly GateOutcome[];
}

export type AttemptEnd =
  | { readonly kind: "decided"; readonly decision: Decision; readonly reasons: readonly string[]; readonly previous: PreviousAttempt }
  | { readonly kind: "interrupted" }
  | { readonly kind: "prompt-error"; readonly message: string }
  /** The transport lost the agent or a gate: the workspace is back at the attempt's start, nothing was judged (src/run/lost.ts). */
  | { readonly kind: "lost"; readonly error: string }
  /** A rule (or the judge) stopped the task for a human at breakpoint `breakpoint`. */
  | { readonly kind: "paused"; readonly breakpoint: string; readonly reasons: readonly string[]; readonly previous: PreviousAttempt };

/** What one attempt has seen so far, handed from step to step. */
interface Seen {
  readonly before: CheckpointId;
  readonly agent: AgentOutcome;
  readonly changes: ChangeSet;
  /** Protected paths the agent changed, put back before the gates ran. */
  readonly restored: readonly RestoredPath[];
}

/**
 * One attempt, in the order the steps happen: prompt → checkpoint → hidden files out → agent → hidden files back →
 * change set → protected paths put back → gates → orc's decision → rules → the decision recorded. Each step is recorded the moment it is known, in its own transaction, so a crash at
 * any point leaves a consistent, resumable run. An agent or gate the transport lost ends the attempt unjudged, its
 * files put back (src/run/lost.ts). A retry whose agent starts a fresh session starts from the files the
 * task started from; one that continues the agent's session starts from the previous attempt's files, which that
 * session remembers writing.
 */
export async function runAttempt(deps: RunDeps, attemptInput: AttemptInput): Promise<AttemptEnd> {
  // The summary as this attempt first reads it: its prompt and the judge's evidence must show the same text.
  const input = { ...attemptInput, ...(attemptInput.projectSummary === undefined ? {} : { projectSummary: once(attemptInput.projectSummary) }) };
  const { runId, task, attempt } = input;
  const record = recorder(deps);

  const prompt = await preparePrompt(deps, input);
  if (!prompt.ok) return { kind: "prompt-error", message: prompt.message };
  const promptFile = join(deps.promptDir, `${task.id}.${String(attempt)}.md`);
  writeFileSync(promptFile, prompt.text);

  const plugin = await deps.loadAgent(task.agent.kind);
  const continuesSession = plugin.sessions === true && task.agent.session !== "fresh";
  const freshStart = input.previous !== null && !continuesSession ? taskStart(deps, input) : undefined;
  if (freshStart !== undefined && (await restoredTo(deps, freshStart))) {
    record({ type: "workspace.restored", run: runId, task: task.id, checkpoint: freshStart, why: "fresh-retry" });
  }
  const before = await deps.workspace.checkpointBefore();
  record({ type: "attempt.started", run: runId, task: task.id, attempt, prompt: prompt.text, checkpoint: before });
  // Held-out tests are absent while the agent works and back before anything looks at its work, interrupted or not.
  const hidden = await hideFiles(deps.workspace, task, before);
  const place = await deps.placeFor(task);
  const agent = await callAgent(deps, plugin, place, { runId, task, attempt, prompt: prompt.text, promptFile, workspace: deps.workspace.dir }, record);
  await unhideFiles(deps.workspace, before, hidden);
  if (deps.signal.aborted) return interrupted(record, input);
  record({ type: "agent.finished", run: runId, task: task.id, attempt, result: agent });
  if (agent.end === "transport-lost") return lost(deps, record, input, before, `agent: ${agent.error ?? "the transport went away under it"}`);
  // The agent may have deleted orc's state (a state directory inside its workspace): stop here, records kept.
  if (stateLost(deps.store) !== undefined) return interrupted(record, input);

  const changes = await deps.workspace.changesSince(before, { task: task.id, attempt });
  record({ type: "changes.detected", run: runId, task: task.id, attempt, ...changes });

  // The gates judge the agent's code against the project's own tests and test setup, not the agent's version of them.
  const restored = await restoreProtected(deps.workspace, task, before, changes);
  const seen: Seen = { before, agent, changes, restored };
  const gates = await runGates(deps, { ...input, place }, seen, record);
  if (gates === undefined) return interrupted(record, input);
  const lostGate = gates.find((g) => g.end === "transport-lost");
  if (lostGate !== undefined) return lost(deps, record, input, before, `gate ${lostGate.gate}: ${lostGate.summary}`);
  return decideAttempt(deps, input, { ...seen, gates }, record);
}

/** The attempt's prompt: the task's template, wrapped for a retry; a retry may be rewritten by the LLM. */
async function preparePrompt(deps: RunDeps, input: AttemptInput): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  const rendered = renderPrompt(input, deps.workspace.dir);
  if (!rendered.ok || input.previous === null || deps.rewritePrompt === undefined) return rendered;
  // optimize_prompts: only a retry is rewritten; a first prompt is the user's own words.
  return { ok: true, text: await rewriteRetry(deps, { ...input, previous: input.previous }, rendered.text, deps.workspace.dir) };
}

/**
 * The task's gates in order, through the gate port, in the agent's transport. A crashed or timed-out agent is retried
 * on its own evidence: running the gates on its half-done work would only add noise to the next prompt. A gate the
 * transport lost ends the list (the attempt runs again). Undefined when the run was interrupted meanwhile.
 */
async function runGates(deps: RunDeps, input: AttemptInput & { readonly place: Place }, seen: Seen, record: RecordEvent): Promise<GateOutcome[] | undefined> {
  const gates: GateOutcome[] = [];
  if (agentProblem(seen.agent) !== undefined) return gates;
  for (const gateId of input.task.gates) {
    const spec = input.pipeline.gates[gateId];
    if (spec === undefined) continue; // config/ rejects unknown gates; unreachable for a validated pipeline
    const result = await deps.gates.run(spec, {
      workspace: deps.workspace.dir,
      transport: input.place.transport,
      env: input.place.env,
      signal: deps.signal,
      evidence: attemptEvidence(deps, input, seen, [...gates]),
    });
    if (deps.signal.aborted) return undefined;
    gates.push(result);
    record({ type: "gate.finished", run: input.runId, task: input.task.id, attempt: input.attempt, result });
    if (result.end === "transport-lost") break;
  }
  return gates;
}

/** orc's own decision, made stricter by the rules (never looser), recorded; a rule may pause the task for a human. */
async function decideAttempt(deps: RunDeps, input: AttemptInput, seen: Seen & { readonly gates: readonly GateOutcome[] }, record: RecordEvent): Promise<AttemptEnd> {
  const { runId, task, attempt } = input;
  const { agent, changes, gates } = seen;
  const touched = seen.restored.map((r) => r.path);
  const base = decide({
    attempt: input.decidedBefore + 1,
    maxAttempts: task.maxAttempts,
    agent,
    gates,
    protectedTouched: seen.restored.map(describeRestored),
    baseline: input.baseline ?? [],
  });
  const ruled = await decideWithRules(deps.store, record, {
    runId,
    pipeline: input.pipeline,
    task,
    attempt,
    attemptsLeft: input.decidedBefore + 1 < task.maxAttempts,
    agent,
    files: changes.files,
    git: changes.git,
    gates,
    protectedTouched: touched,
    base,
    attemptStart: Date.now() - agent.durationMs - gates.reduce((n, g) => n + g.durationMs, 0),
    testPatch: (paths) => deps.workspace.patch(seen.before, changes.checkpoint, paths),
    baseline: input.baseline ?? [],
  });
  const merged = ruled.decision === "accept" && deps.isolation !== undefined ? await mergeAccepted(deps, deps.isolation, input, seen) : undefined;
  if (merged?.kind === "interrupted") return interrupted(record, input);
  // Work that does not merge is sent back for another attempt, or to a human when none is left.
  const refused = merged?.kind === "refused" ? merged.reasons : undefined;
  const attemptsLeft = input.decidedBefore + 1 < task.maxAttempts;
  const decision = refused === undefined ? ruled.decision : attemptsLeft ? "retry" : "pause";
  const reasons = refused ?? ruled.reasons;
  const pausedBy = refused !== undefined && !attemptsLeft ? mergeFailed(refused) : ruled.pausedBy;
  record({ type: "attempt.decided", run: runId, task: task.id, attempt, decision, reasons });
  const previous = describePrevious({ attempt, reasons, agent, gates, files: changes.files });
  if (pausedBy === undefined) return { kind: "decided", decision, reasons, previous };
  const breakpoint = await openBreakpoint(deps, { run: runId, task: task.id, attempt, fired: pausedBy, reasons, files: changes.files, gates });
  return { kind: "paused", breakpoint, reasons, previous };
}

/**
 * Where a retry with a fresh agent session starts: the task's own directory's base (tasks side by side), or the
 * task's start when putting the whole workspace back there undoes this task's work alone (run/undo.ts).
 */
function taskStart(deps: RunDeps, input: AttemptInput): CheckpointId | undefined {
  if (deps.isolation !== undefined) return deps.isolation.base();
  return ownTaskStart(deps.store, { runId: input.runId, concurrency: input.pipeline.concurrency }, input.task.id);
}

/** Tasks side by side: the accepted attempt's files, as the gates saw them, merged into the run's workspace. */
async function mergeAccepted(deps: RunDeps, isolation: TaskIsolation, input: AttemptInput, seen: Seen & { readonly gates: readonly GateOutcome[] }): Promise<MergeEnd> {
  const accepted = await deps.workspace.checkpointBefore();
  return isolation.merge({ attempt: input.attempt, accepted, evidence: attemptEvidence(deps, input, seen, seen.gates) });
}

/** The evidence a judge gate weighs; the diff is computed only if a gate asks for it, and at most once. */
function attemptEvidence(deps: RunDeps, input: AttemptInput, seen: Seen, gatesBefore: readonly GateOutcome[]): AttemptEvidence {
  const base = renderTaskPrompt(input, deps.workspace.dir);
  let diff: Promise<string> | undefined;
  return {
    runId: input.runId,
    taskId: input.task.id,
    attempt: input.attempt,
    taskPrompt: base.ok ? base.text : "",
    claims: seen.agent.claims,
    files: seen.changes.files,
    diff: () =>
      (diff ??= deps.workspace.patch(
        seen.before,
        seen.changes.checkpoint,
        seen.changes.files.map((f) => f.path),
      )),
    gates: gatesBefore,
    baseline: input.baseline ?? [],
  };
}

async function lost(deps: RunDeps, record: RecordEvent, input: AttemptInput, before: CheckpointId, error: string): Promise<AttemptEnd> {
  await endLostAttempt(deps, record, { runId: input.runId, task: input.task.id, attempt: input.attempt, before, concurrency: input.pipeline.concurrency }, error);
  return { kind: "lost", error };
}

function interrupted(record: RecordEvent, input: AttemptInput): AttemptEnd {
  record({ type: "attempt.interrupted", run: input.runId, task: input.task.id, attempt: input.attempt });
  return { kind: "interrupted" };
}

/** `fn`, called once: later calls return the first answer. */
function once(fn: () => string): () => string {
  let value: string | undefined;
  return () => (value ??= fn());
}
