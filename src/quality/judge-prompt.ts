import type { FileChange, GateOutcome } from "../core/events.js";
import type { TemplateSource } from "../core/pipeline.js";
import { CHAT_MARKUP_TOKENS } from "../llm/port.js";
import { renderTemplate } from "../prompts/engine.js";

/**
 * The judge's prompt, in two parts: `system` is the same for every attempt of a task (instructions, the task, the
 * project summary), so a provider that keeps a prefix evaluates it once; `prompt` is this attempt's evidence rendered
 * by the rubric. Everything fits `budget` tokens: the diff gets what the rest leaves, claims and outputs are capped.
 */
export const JUDGE_INSTRUCTIONS = [
  "You are orc's judge: a strict reviewer of a coding agent's work.",
  "You answer only with JSON. You never trust a claim the evidence does not show; an unsupported claim is an issue.",
  'Use "needs_human" when the evidence is not enough to decide.',
].join("\n");

/** Changed files listed to the judge at most; the diff shows what they hold. */
const MAX_FILES = 200;

export interface JudgePromptInput {
  readonly rubric: TemplateSource;
  readonly threshold: number;
  readonly taskPrompt: string;
  readonly summary: string;
  readonly attempt: number;
  readonly claims: string;
  /** What orc's own check found (src/core/claims.ts): `"<claim>": <evidence>` lines. */
  readonly contradictions?: readonly string[];
  readonly unverified?: readonly string[];
  readonly files: readonly FileChange[];
  readonly gates: readonly GateOutcome[];
  /** The same gates before the task's first attempt: what the agent's work changed about them. */
  readonly baseline?: readonly GateOutcome[];
  readonly diff: string;
}

export interface Tokenizer {
  countTokens(text: string): Promise<number>;
  truncate(text: string, maxTokens: number): Promise<string>;
}

export type JudgePrompt =
  | { readonly ok: true; readonly system: string; readonly prompt: string; readonly diffTruncated: boolean }
  | { readonly ok: false; readonly message: string };

/** `text` within `maxTokens` tokens, a note included when it had to be cut. */
async function cap(tok: Tokenizer, text: string, maxTokens: number, what: string): Promise<string> {
  const tokens = await tok.countTokens(text);
  if (tokens <= maxTokens) return text;
  const note = (kept: number): string => `\n… (${what} cut to fit the judge's budget: ${String(tokens)} tokens, kept the first ${String(kept)})`;
  const keep = Math.max(0, maxTokens - (await tok.countTokens(note(tokens))));
  return `${keep > 0 ? await tok.truncate(text, keep) : ""}${note(keep)}`;
}

/** The first lines that fit `maxTokens`, and a line saying how many were left out. */
async function capLines(tok: Tokenizer, lines: readonly string[], maxTokens: number): Promise<string[]> {
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    used += await tok.countTokens(line);
    if (used > maxTokens) return [...kept, `… ${String(lines.length - kept.length)} more left out to fit the judge's budget`];
    kept.push(line);
  }
  return kept;
}

export async function buildJudgePrompt(input: JudgePromptInput, tok: Tokenizer, budget: number): Promise<JudgePrompt> {
  const taskPrompt = await cap(tok, input.taskPrompt, Math.floor(budget / 4), "task");
  const summary = input.summary === "" ? "" : await cap(tok, input.summary, Math.floor(budget / 8), "summary");
  const system = [JUDGE_INSTRUCTIONS, "", "## The task", taskPrompt, ...(summary === "" ? [] : ["", "## The project so far", summary])].join("\n");
  const claims = await cap(tok, input.claims, Math.floor(budget / 8), "claims");
  const contradictions = await capLines(tok, input.contradictions ?? [], Math.floor(budget / 16));
  const unverified = await capLines(tok, input.unverified ?? [], Math.floor(budget / 32));
  const gates = await Promise.all(
    input.gates.map(async (g) => ({
      id: g.gate,
      passed: g.passed,
      exit_code: g.exitCode,
      summary: g.summary,
      tests: g.tests ?? null,
      output_tail: await cap(tok, g.outputTail, Math.floor(budget / 16), "output"),
    })),
  );
  let shownFiles = Math.min(input.files.length, MAX_FILES);
  const context = (diff: string): Record<string, unknown> => ({
    threshold: input.threshold,
    attempt: input.attempt,
    claims,
    contradictions,
    unverified,
    files: input.files.slice(0, shownFiles),
    files_left_out: input.files.length - shownFiles,
    gates,
    baseline: (input.baseline ?? []).map((g) => ({ id: g.gate, passed: g.passed, summary: g.summary, tests: g.tests ?? null })),
    diff,
    summary,
    task: { prompt: taskPrompt },
  });
  const systemTokens = (await tok.countTokens(system)) + CHAT_MARKUP_TOKENS;
  let used: number;
  // A long list of changed files (a generated directory, a rename of many) gives way before the evidence does not fit.
  for (;;) {
    const empty = renderTemplate(input.rubric, context(""));
    if (!empty.ok) return empty;
    used = systemTokens + (await tok.countTokens(empty.text));
    if (used <= budget || shownFiles === 0) break;
    shownFiles = Math.floor(shownFiles / 2);
  }
  const diffTokens = await tok.countTokens(input.diff);
  const room = Math.max(0, budget - used);
  if (diffTokens <= room) {
    const full = renderTemplate(input.rubric, context(input.diff));
    return full.ok ? { ok: true, system, prompt: full.text, diffTruncated: false } : full;
  }
  const cut = renderTemplate(input.rubric, context(await cap(tok, input.diff, room, "diff")));
  return cut.ok ? { ok: true, system, prompt: cut.text, diffTruncated: true } : cut;
}
