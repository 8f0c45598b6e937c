import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentOutcome, Decision, GateOutcome } from "../core/events.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import { describePrevious, type PreviousAttempt } from "../prompts/context.js";
import { renderTemplate } from "../prompts/engine.js";
import { agentProblem, decide } from "./decide.js";
import { callAgent } from "./agent-call.js";
import { recorder, type AttemptChanges, type AttemptEvidence, type RunDeps } from "./deps.js";
import { journalOf } from "./journal.js";
import { protectedTouched } from "./protect.js";
import { decideWithRules } from "../rules/attempt-rules.js";
import { humanNote, openBreakpoint } from "./pause.js";

export interface AttemptInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  readonly attempt: number;
  /** Attempts that reached a decision before this one (interrupted ones do not count). */
  readonly decidedBefore: number;
  readonly workspace: string;
  readonly previous: PreviousAttempt | null;
  /** What earlier tasks did (src/prompts/summary.ts), offered to templates as `project.summary`; read only if used. */
  readonly projectSummary?: () => string;
  /** The note of the human who resolved this task's last breakpoint, for the next prompt ("" or absent: none). */
  readonly note?: string;
}

export type AttemptEnd =
  | { readonly kind: "decided"; readonly decision: Decision; readonly reasons: readonly string[]; readonly previous: PreviousAttempt }
  | { readonly kind: "interrupted" }
  | { readonly kind: "prompt-error"; readonly message: string }
  /** A rule (or the judge) stopped the task for a human at breakpoint `breakpoint`. */
  | { readonly kind: "paused"; readonly breakpoint: string; readonly reasons: readonly string[]; readonly previous: PreviousAttempt };

/** The Liquid context every prompt sees. Keys are snake_case because users type them in templates. */
export function promptContext(input: AttemptInput): Record<string, unknown> {
  return {
    run: { id: input.runId },
    pipeline: { name: input.pipeline.name },
    task: { id: input.task.id, needs: input.task.needs, gates: input.task.gates, protect: input.task.protect },
    attempt: input.attempt,
    max_attempts: input.task.maxAttempts,
    workspace: input.workspace,
    previous: input.previous,
    note: input.note ?? "",
    // A getter: most templates never read it, and reading it commits what the run holds back (src/cli/run-deps.ts).
    project: {
      get summary(): string {
        return input.projectSummary?.() ?? "";
      },
    },
  };
}

function renderPrompt(input: AttemptInput): { ok: true; text: string } | { ok: false; message: string } {
  const context = promptContext(input);
  const base = renderTemplate(input.task.prompt, context);
  if (!base.ok) return base;
  // A first attempt after a human's note (a before_task breakpoint) has no previous attempt to wrap: the note follows.
  if (input.previous === null) return input.note ? { ok: true, text: humanNote(base.text, input.note) } : base;
  return renderTemplate(input.pipeline.retryTemplate, { ...context, prompt: base.text });
}

/** The evidence a judge gate weighs; the diff is computed only if a gate asks for it, and at most once. */
function attemptEvidence(
  deps: RunDeps,
  input: AttemptInput,
  seen: { readonly agent: AgentOutcome; readonly before: string; readonly changes: AttemptChanges; readonly gates: readonly GateOutcome[] },
): AttemptEvidence {
  const base = renderTemplate(input.task.prompt, promptContext(input));
  let diff: Promise<string> | undefined;
  const { checkpoint } = seen.changes;
  return {
    runId: input.runId,
    taskId: input.task.id,
    attempt: input.attempt,
    taskPrompt: base.ok ? base.text : "",
    claims: seen.agent.claims,
    files: seen.changes.files,
    diff: () => {
      const paths = seen.changes.files.map((f) => f.path);
      diff ??= checkpoint === undefined || deps.changes.patch === undefined ? Promise.resolve("") : deps.changes.patch(seen.before, checkpoint, paths);
      return diff;
    },
    gates: seen.gates,
  };
}

/**
 * One attempt: prompt → checkpoint → agent → changes → gates → decision. Each step is recorded as an event (one
 * transaction each) as soon as it is known, so a crash at any point leaves a consistent, resumable run.
 */
export async function runAttempt(deps: RunDeps, attemptInput: AttemptInput): Promise<AttemptEnd> {
  // The summary as this attempt first reads it: its prompt and the judge's evidence must show the same text.
  const input = { ...attemptInput, ...(attemptInput.projectSummary === undefined ? {} : { projectSummary: once(attemptInput.projectSummary) }) };
  const { runId, task, attempt } = input;
  const record = recorder(deps);
  const journal = journalOf(deps);
  const rendered = renderPrompt(input);
  if (!rendered.ok) return { kind: "prompt-error", message: rendered.message };
  // A retry prompt may be rewritten by the LLM (optimize_prompts); a first prompt is the user's own words.
  const prompt =
    input.previous !== null && deps.rewritePrompt !== undefined
      ? { ok: true as const, text: await deps.rewritePrompt(rendered.text, { runId, taskId: task.id, signal: deps.signal }) }
      : rendered;

  const promptFile = join(deps.promptDir, `${task.id}.${attempt}.md`);
  writeFileSync(promptFile, prompt.text);
  // Committed with the agent's pid (agent.spawned), or with whatever ends the attempt first: run/journal.ts.
  journal.defer({ type: "attempt.started", run: runId, task: task.id, attempt, prompt: prompt.text });

  // A function, not a property read, so TypeScript does not narrow it to `false` after the first check.
  const aborted = (): boolean => deps.signal.aborted;
  const interrupted = (): AttemptEnd => {
    record({ type: "attempt.interrupted", run: runId, task: task.id, attempt });
    return { kind: "interrupted" };
  };

  const before = await deps.changes.before();
  const plugin = await deps.loadAgent(task.agent.kind);
  // The session to continue, limits waited out, the session recorded as soon as known: run/agent-call.ts.
  const agent: AgentOutcome = await callAgent(deps, plugin, { runId, task, attempt, prompt: prompt.text, promptFile, workspace: input.workspace }, record);
  if (aborted()) return interrupted();
  const finished = { type: "agent.finished", run: runId, task: task.id, attempt, result: agent } as const;
  // The agent's outcome is committed with what the change check finds, in one transaction, when the check answers at
  // once (nothing changed: the usual case); before the check takes a checkpoint (git, which may take a while), it is
  // committed on its own, so a crash meanwhile does not lose it.
  const outcome = { committed: false };
  const commitOutcome = (): void => {
    if (outcome.committed) return;
    outcome.committed = true;
    record(finished);
  };
  const changes = await deps.changes.after(before, `${task.id}/${attempt}`, commitOutcome).catch((error: unknown) => {
    commitOutcome();
    throw error;
  });
  if (!outcome.committed) journal.defer(finished);
  const detected = { type: "changes.detected", run: runId, task: task.id, attempt, ...changes } as const;
  // With no gate to wait for, the changes are committed with the decision and the task's end, which commit with the
  // next agent's start (run/journal.ts); with gates, they are committed (and shown) before the first gate starts.
  if (task.gates.length === 0) journal.defer(detected);
  else record(detected);

  const gates: GateOutcome[] = [];
  // A crashed or timed-out agent is retried on its own evidence; running the gates on its half-done work would only
  // add noise to the next prompt.
  if (agentProblem(agent) === undefined) {
    if (task.gates.length > 0) deps.changes.invalidate();
    for (const gateId of task.gates) {
      const spec = input.pipeline.gates[gateId];
      if (spec === undefined) continue; // config/ rejects unknown gates; unreachable for a validated pipeline
      const result = await deps.runGate(spec, {
        workspace: input.workspace,
        transport: deps.transport,
        env: deps.env,
        signal: deps.signal,
        evidence: attemptEvidence(deps, input, { agent, before, changes, gates: [...gates] }),
      });
      if (aborted()) return interrupted();
      gates.push(result);
      record({ type: "gate.finished", run: runId, task: task.id, attempt, result });
    }
  }

  const touched = protectedTouched(task.protect, changes.files);
  const base = decide({
    attempt: input.decidedBefore + 1,
    maxAttempts: task.maxAttempts,
    agent,
    gates,
    protectedTouched: touched,
  });
  // Rules (pipeline breakpoints, packs, the judge's call for a human) can only make the decision stricter.
  const ruled = await decideWithRules(deps.store, record, {
    runId,
    pipeline: input.pipeline,
    task,
    attempt,
    attemptsLeft: input.decidedBefore + 1 < task.maxAttempts,
    agent,
    files: changes.files,
    gates,
    protectedTouched: touched,
    base,
    attemptStart: Date.now() - agent.durationMs - gates.reduce((n, g) => n + g.durationMs, 0),
    testPatch: (paths) => (deps.changes.patch === undefined || changes.checkpoint === undefined ? Promise.resolve("") : deps.changes.patch(before, changes.checkpoint, paths)),
  });
  const { decision, reasons } = ruled;
  const decided = { type: "attempt.decided", run: runId, task: task.id, attempt, decision, reasons } as const;
  // A final decision is committed with the task's end, which the orchestrator records next (run/orchestrator.ts).
  if (ruled.pausedBy === undefined && (decision === "accept" || decision === "fail")) journal.defer(decided);
  else record(decided);
  if (ruled.pausedBy !== undefined) {
    const breakpoint = await openBreakpoint(deps, { run: runId, task: task.id, attempt, fired: ruled.pausedBy, reasons, files: changes.files, gates });
    return { kind: "paused", breakpoint, reasons, previous: describePrevious({ attempt, reasons, agent, gates, files: changes.files }) };
  }
  return {
    kind: "decided",
    decision,
    reasons,
    previous: describePrevious({ attempt, reasons, agent, gates, files: changes.files }),
  };
}

/** `fn`, called once: later calls return the first answer. */
function once(fn: () => string): () => string {
  let value: string | undefined;
  return () => (value ??= fn());
}
