import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentOutcome, Decision, GateOutcome } from "../core/events.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import { describePrevious, type PreviousAttempt } from "../prompts/context.js";
import { renderTemplate } from "../prompts/engine.js";
import { agentProblem, decide } from "./decide.js";
import { recorder, type RunDeps } from "./deps.js";
import { protectedTouched } from "./protect.js";

export interface AttemptInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  readonly attempt: number;
  /** Attempts that reached a decision before this one (interrupted ones do not count). */
  readonly decidedBefore: number;
  readonly workspace: string;
  readonly previous: PreviousAttempt | null;
}

export type AttemptEnd =
  | { readonly kind: "decided"; readonly decision: Decision; readonly reasons: readonly string[]; readonly previous: PreviousAttempt }
  | { readonly kind: "interrupted" }
  | { readonly kind: "prompt-error"; readonly message: string };

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
  };
}

function renderPrompt(input: AttemptInput): { ok: true; text: string } | { ok: false; message: string } {
  const context = promptContext(input);
  const base = renderTemplate(input.task.prompt, context);
  if (!base.ok || input.previous === null) return base;
  return renderTemplate(input.pipeline.retryTemplate, { ...context, prompt: base.text });
}

/**
 * One attempt: prompt → checkpoint → agent → changes → gates → decision. Each step is recorded as an event (one
 * transaction each) as soon as it is known, so a crash at any point leaves a consistent, resumable run.
 */
export async function runAttempt(deps: RunDeps, input: AttemptInput): Promise<AttemptEnd> {
  const { runId, task, attempt } = input;
  const record = recorder(deps);
  const prompt = renderPrompt(input);
  if (!prompt.ok) return { kind: "prompt-error", message: prompt.message };

  const promptFile = join(deps.promptDir, `${task.id}.${attempt}.md`);
  writeFileSync(promptFile, prompt.text);
  record({ type: "attempt.started", run: runId, task: task.id, attempt, prompt: prompt.text });

  // A function, not a property read, so TypeScript does not narrow it to `false` after the first check.
  const aborted = (): boolean => deps.signal.aborted;
  const interrupted = (): AttemptEnd => {
    record({ type: "attempt.interrupted", run: runId, task: task.id, attempt });
    return { kind: "interrupted" };
  };

  const before = await deps.changes.before();
  const plugin = await deps.loadAgent(task.agent.kind);
  const agent: AgentOutcome = await plugin.run({
    spec: task.agent,
    prompt: prompt.text,
    promptFile,
    workspace: input.workspace,
    runId,
    taskId: task.id,
    attempt,
    env: deps.env,
    transport: deps.transport,
    signal: deps.signal,
  });
  if (aborted()) return interrupted();
  record({ type: "agent.finished", run: runId, task: task.id, attempt, result: agent });

  const changes = await deps.changes.after(before, `${task.id}/${attempt}`);
  record({ type: "changes.detected", run: runId, task: task.id, attempt, ...changes });

  const gates: GateOutcome[] = [];
  // A crashed or timed-out agent is retried on its own evidence; running the gates on its half-done work would only
  // add noise to the next prompt.
  if (agentProblem(agent) === undefined) {
    if (task.gates.length > 0) deps.changes.invalidate();
    for (const gateId of task.gates) {
      const spec = input.pipeline.gates[gateId];
      if (spec === undefined) continue; // config/ rejects unknown gates; unreachable for a validated pipeline
      const result = await deps.runGate(spec, { workspace: input.workspace, transport: deps.transport, env: deps.env, signal: deps.signal });
      if (aborted()) return interrupted();
      gates.push(result);
      record({ type: "gate.finished", run: runId, task: task.id, attempt, result });
    }
  }

  const touched = protectedTouched(task.protect, changes.files);
  const { decision, reasons } = decide({
    attempt: input.decidedBefore + 1,
    maxAttempts: task.maxAttempts,
    agent,
    gates,
    protectedTouched: touched,
  });
  record({ type: "attempt.decided", run: runId, task: task.id, attempt, decision, reasons });
  return {
    kind: "decided",
    decision,
    reasons,
    previous: describePrevious({ attempt, reasons, agent, gates, files: changes.files }),
  };
}
