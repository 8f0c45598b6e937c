import type { LlmProvider, LlmSettings } from "../llm/port.js";

/** Instructions for the rewrite; the prompt itself goes in the user message, as data. */
const REWRITE_INSTRUCTIONS = [
  "You rewrite follow-up prompts for a coding agent.",
  "Keep every failure, judge issue, contradicted claim and instruction; drop repetition; be direct and concise.",
  'Answer only with JSON: {"prompt": "<the rewritten prompt>"}.',
].join("\n");

const SCHEMA = { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"], additionalProperties: false };

/**
 * `optimize_prompts: true`: the LLM rewrites a retry prompt. The input is cut to the prompt budget and the answer is
 * limited to it (counted by the model's tokenizer), so the agent never receives more than the budget. Anything that
 * goes wrong (no LLM, a timeout, an empty or malformed answer) sends the template's prompt unchanged, cut to budget.
 */
export async function rewritePrompt(
  provider: LlmProvider,
  settings: LlmSettings,
  prompt: string,
  ctx: { readonly runId: string; readonly taskId: string; readonly signal: AbortSignal },
): Promise<string> {
  const budget = settings.maxPromptTokens;
  const input = await provider.truncate(prompt, budget);
  const reply = await provider.complete({
    system: REWRITE_INSTRUCTIONS,
    prompt: input,
    schema: SCHEMA,
    maxTokens: Math.min(budget, settings.maxOutputTokens * 4),
    timeoutMs: settings.timeoutMs,
    signal: ctx.signal,
    session: `${ctx.runId}/${ctx.taskId}/rewrite`,
  });
  if (!reply.ok) return input;
  try {
    const parsed = JSON.parse(reply.value.text) as { prompt?: unknown };
    const text = typeof parsed.prompt === "string" ? parsed.prompt.trim() : "";
    return text === "" ? input : await provider.truncate(text, budget);
  } catch {
    return input;
  }
}
