import { CHAT_MARKUP_TOKENS, type LlmProvider, type LlmSettings } from "../llm/port.js";

/** Instructions for the rewrite; the prompt itself goes in the user message, as data. */
const REWRITE_INSTRUCTIONS = [
  "You rewrite follow-up prompts for a coding agent.",
  "Keep every failure, judge issue, contradicted claim and instruction; drop repetition; be direct and concise.",
  'Answer only with JSON: {"prompt": "<the rewritten prompt>"}.',
].join("\n");

const SCHEMA = { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"], additionalProperties: false };

/** What a rewrite came to: the prompt to send, whether it is the LLM's, and why not. */
export interface Rewrite {
  readonly text: string;
  readonly used: boolean;
  readonly reason: string;
}

/** Text compared with case, whitespace and Markdown quoting ignored: a rewrite may reflow lines. */
function normal(text: string): string {
  return text.replace(/[`*_>]/g, "").replace(/\s+/g, " ").trim().toLowerCase();
}

/** The fragments a rewrite dropped, each shown short. */
export function missingFragments(rewrite: string, keep: readonly string[]): string[] {
  const text = normal(rewrite);
  return keep.filter((k) => normal(k) !== "" && !text.includes(normal(k))).map((k) => (k.length <= 60 ? k : `${k.slice(0, 57)}…`));
}

/**
 * `optimize_prompts: true`: the LLM rewrites a retry prompt. The input is cut to the prompt budget and the answer is
 * limited to it (counted by the model's tokenizer), so the agent never receives more than the budget. Anything that
 * goes wrong (no LLM, a timeout, an empty or malformed answer) sends the template's prompt unchanged, cut to budget.
 * So does a rewrite that lost any of `keep` (the task's own lines, the failing gates' evidence): a shorter prompt that
 * no longer says what to do or what failed is worse than a long one.
 */
export async function rewritePrompt(
  provider: LlmProvider,
  settings: LlmSettings,
  prompt: string,
  ctx: { readonly runId: string; readonly taskId: string; readonly signal: AbortSignal; readonly keep?: readonly string[] },
): Promise<Rewrite> {
  const budget = settings.maxPromptTokens;
  const input = await provider.truncate(prompt, budget);
  const plain = (reason: string): Rewrite => ({ text: input, used: false, reason });
  // The rewrite may be as long as the prompt it replaces, up to four answers. Where the model's context is known, the
  // prompt and its rewrite share what the instructions leave of it, the rewrite at most half.
  const context = await provider.contextTokens();
  const room = context === undefined ? Infinity : Math.max(0, context - (await provider.countTokens(REWRITE_INSTRUCTIONS)) - CHAT_MARKUP_TOKENS);
  const answerTokens = Math.min(budget, settings.maxOutputTokens * 4, Math.floor(room / 2));
  if (answerTokens < 1) return plain("the model's context cannot hold a rewrite");
  const readable = Math.min(budget, room - answerTokens);
  const reply = await provider.complete({
    system: REWRITE_INSTRUCTIONS,
    prompt: readable < budget ? await provider.truncate(input, readable) : input,
    schema: SCHEMA,
    maxTokens: answerTokens,
    timeoutMs: settings.timeoutMs,
    signal: ctx.signal,
    session: `${ctx.runId}/${ctx.taskId}/rewrite`,
  });
  if (!reply.ok) return plain(`the LLM failed (${reply.failure.kind}: ${reply.failure.message})`);
  let text: string;
  try {
    const parsed = JSON.parse(reply.value.text) as { prompt?: unknown };
    text = typeof parsed.prompt === "string" ? parsed.prompt.trim() : "";
  } catch {
    return plain("the LLM's answer was not the JSON asked for");
  }
  if (text === "") return plain("the LLM's rewrite was empty");
  const rewritten = await provider.truncate(text, budget);
  const missing = missingFragments(rewritten, ctx.keep ?? []);
  if (missing.length > 0) return plain(`the rewrite dropped ${missing.map((m) => JSON.stringify(m)).join(", ")}`);
  return { text: rewritten, used: true, reason: "" };
}
