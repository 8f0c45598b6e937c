import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import { recorder, type RunDeps } from "./deps.js";
import type { PreviousAttempt } from "../prompts/context.js";
import { renderTemplate } from "../prompts/engine.js";

export interface PromptInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  readonly attempt: number;
  readonly previous: PreviousAttempt | null;
  readonly projectSummary?: () => string;
  readonly note?: string;
}

type Rendered = { ok: true; text: string } | { ok: false; message: string };

/** The Liquid context every prompt sees. Keys are snake_case because users type them in templates. */
export function promptContext(input: PromptInput, workspace: string): Record<string, unknown> {
  return {
    run: { id: input.runId },
    pipeline: { name: input.pipeline.name },
    task: { id: input.task.id, needs: input.task.needs, gates: input.task.gates, protect: input.task.protect },
    attempt: input.attempt,
    max_attempts: input.task.maxAttempts,
    workspace,
    previous: input.previous,
    note: input.note ?? "",
    // A getter: the summary is built only for templates that read it.
    project: {
      get summary(): string {
        return input.projectSummary?.() ?? "";
      },
    },
  };
}

/** The task's own prompt, without a retry's wrapper (the same text on every attempt: what the judge is shown). */
export function renderTaskPrompt(input: PromptInput, workspace: string): Rendered {
  return renderTemplate(input.task.prompt, promptContext(input, workspace));
}

/** The prompt the agent gets: the task's prompt, wrapped in the retry template after a decided attempt. */
export function renderPrompt(input: PromptInput, workspace: string): Rendered {
  const context = promptContext(input, workspace);
  const base = renderTemplate(input.task.prompt, context);
  if (!base.ok) return base;
  // A first attempt after a human's note (a before_task breakpoint) has no previous attempt to wrap: the note follows.
  if (input.previous === null) return input.note ? { ok: true, text: humanNote(base.text, input.note) } : base;
  return renderTemplate(input.pipeline.retryTemplate, { ...context, prompt: base.text });
}

/** The human's note after a prompt that has no retry wrapper (the first attempt after a before_task breakpoint). */
function humanNote(prompt: string, note: string): string {
  return `${prompt}\n\n---\nA human reviewed this task before this attempt and left a note:\n${note}\n`;
}

/**
 * What a rewritten retry prompt must still say: every non-empty line of the task's own prompt, and for each failed gate
 * its name and the last line of its output (the judge's first issue for a judge gate).
 */
export function mustKeep(taskPrompt: string, previous: PreviousAttempt): string[] {
  const task = taskPrompt.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const evidence = previous.gates
    .filter((g) => !g.passed)
    .flatMap((g) => {
      const last = g.verdict?.issues[0] ?? g.output_tail.split("\n").map((l) => l.trim()).filter((l) => l !== "").at(-1) ?? "";
      return [g.id, last.slice(0, 120)];
    });
  return [...task, ...evidence].filter((k) => k !== "");
}

/** `optimize_prompts`: the retry prompt as the LLM rewrote it, or as the template wrote it; which is recorded. */
export async function rewriteRetry(deps: RunDeps, input: PromptInput & { readonly previous: PreviousAttempt }, rendered: string, workspace: string): Promise<string> {
  if (deps.rewritePrompt === undefined) return rendered;
  const base = renderTaskPrompt(input, workspace);
  const keep = mustKeep(base.ok ? base.text : "", input.previous);
  const result = await deps.rewritePrompt(rendered, { runId: input.runId, taskId: input.task.id, signal: deps.signal, keep });
  recorder(deps)({ type: "prompt.rewritten", run: input.runId, task: input.task.id, attempt: input.attempt, used: result.used, reason: result.reason });
  return result.text;
}
