import { createHash } from "node:crypto";
import { checkClaims, describeContradiction } from "../core/claims.js";
import type { GateOutcome, JudgeAudit, JudgeVerdict } from "../core/events.js";
import type { JudgeGateSpec, TemplateSource } from "../core/pipeline.js";
import { promptBudget, type LlmFailure, type LlmProvider, type LlmReply, type LlmSettings } from "../llm/port.js";
import { parseVerdict } from "../llm/verdict.js";
import { verdictSchema } from "../llm/verdict-schema.js";
import type { GateContext } from "./port.js";
import { buildJudgePrompt } from "./judge-prompt.js";

/** Verdicts by input hash: what the judge falls back on when the LLM is unavailable. */
export interface VerdictCache {
  get(hash: string): JudgeVerdict | undefined;
  put(hash: string, verdict: JudgeVerdict): void;
}

export class MemoryVerdictCache implements VerdictCache {
  private readonly map = new Map<string, JudgeVerdict>();
  get(hash: string): JudgeVerdict | undefined {
    return this.map.get(hash);
  }
  put(hash: string, verdict: JudgeVerdict): void {
    this.map.set(hash, verdict);
  }
}

export interface JudgeDeps {
  readonly provider: LlmProvider;
  readonly settings: LlmSettings;
  readonly cache: VerdictCache;
  /** The default rubric, for gates that name none. */
  readonly defaultRubric: TemplateSource;
  /** The running project summary offered to the judge (see src/prompts/summary.ts). */
  readonly summary: () => string;
}

/** A malformed, out-of-range, timed-out or failed answer is asked for once more; then a human decides. */
const CALLS = 2;

/**
 * Characters of each prompt part kept in the ledger. The prompt is already within `max_prompt_tokens`; this only
 * bounds a misconfigured budget (a million tokens) from bloating every gate.finished event.
 */
const AUDIT_CHARS = 200_000;

function audit(settings: LlmSettings, system: string, prompt: string, hash: string): JudgeAudit {
  const keep = (text: string): string => (text.length <= AUDIT_CHARS ? text : `${text.slice(0, AUDIT_CHARS)}\n… (cut for the ledger: ${String(text.length)} characters)`);
  const cut = system.length > AUDIT_CHARS || prompt.length > AUDIT_CHARS;
  return { system: keep(system), prompt: keep(prompt), model: `${settings.kind}:${settings.model ?? ""}`, hash, ...(cut ? { cut } : {}) };
}

/** The id of a judge input: the same model, instructions and evidence give the same hash. */
export function judgeInputHash(settings: LlmSettings, system: string, prompt: string): string {
  return createHash("sha256")
    .update(JSON.stringify([settings.kind, settings.model ?? "", system, prompt, verdictSchema()]))
    .digest("hex");
}

function fixed(n: number): string {
  return n.toFixed(2);
}

function needsHuman(why: string, calls: number): JudgeVerdict {
  return { verdict: "needs_human", confidence: 0, issues: [why], contradictedClaims: [], needsHuman: true, calls };
}

/**
 * A `judge:` gate. The judge compares the agent's claims with the evidence and answers under the verdict schema; the
 * gate passes only on a valid `pass` verdict at or above the threshold. Anything else fails closed: a bad answer is
 * retried once and then marked `needsHuman`, an unavailable LLM falls back to the verdict cached for the identical
 * input, else `needsHuman`. Never a silent accept.
 */
export async function runJudgeGate(spec: JudgeGateSpec, ctx: GateContext, deps: JudgeDeps): Promise<GateOutcome> {
  const started = Date.now();
  const evidence = ctx.evidence;
  // Filled once the prompt is built: every outcome after that carries what the judge was asked.
  const asked: { judge?: JudgeAudit } = {};
  const outcome = (verdict: JudgeVerdict, end: GateOutcome["end"], details: string): GateOutcome => {
    const passed = verdict.verdict === "pass" && !verdict.needsHuman && verdict.confidence >= spec.threshold;
    return {
      gate: spec.id,
      kind: "judge",
      passed,
      exitCode: null,
      end,
      durationMs: Date.now() - started,
      outputTail: details,
      summary: summarise(verdict, spec.threshold, passed),
      verdict,
      ...(asked.judge === undefined ? {} : { judge: asked.judge }),
    };
  };
  if (evidence === undefined) return outcome(needsHuman("the judge was given no evidence", 0), "spawn-error", "");

  // orc's own check of the claims goes to the judge as evidence: it costs no tokens to find, few to read.
  const checked = checkClaims(evidence.claims, evidence.files, evidence.gates);
  const prompt = await buildJudgePrompt(
    {
      rubric: spec.rubric ?? deps.defaultRubric,
      threshold: spec.threshold,
      taskPrompt: evidence.taskPrompt,
      summary: deps.summary(),
      attempt: evidence.attempt,
      claims: evidence.claims,
      contradictions: checked.contradictions.map(describeContradiction),
      unverified: checked.unverified,
      files: evidence.files,
      gates: evidence.gates,
      baseline: evidence.baseline ?? [],
      diff: await evidence.diff(),
    },
    deps.provider,
    await promptBudget(deps.provider, deps.settings, deps.settings.maxOutputTokens),
  );
  if (!prompt.ok) return outcome(needsHuman(`the rubric cannot be rendered: ${prompt.message}`, 0), "spawn-error", "");
  const hash = judgeInputHash(deps.settings, prompt.system, prompt.prompt);
  asked.judge = audit(deps.settings, prompt.system, prompt.prompt, hash);

  const problems: string[] = [];
  const lines: string[] = [];
  let lastFailure: LlmFailure | undefined;
  for (let call = 1; call <= CALLS; call++) {
    const reply = await deps.provider.complete({
      system: prompt.system,
      prompt: prompt.prompt,
      schema: verdictSchema(),
      maxTokens: deps.settings.maxOutputTokens,
      timeoutMs: deps.settings.timeoutMs,
      signal: ctx.signal,
      session: `${evidence.runId}/${evidence.taskId}`,
    });
    if (!reply.ok) {
      lastFailure = reply.failure;
      problems.push(`${reply.failure.kind}: ${reply.failure.message}`);
      if (reply.failure.kind === "aborted") return outcome(needsHuman("the judge was cancelled", call), "cancelled", problems.join("\n"));
      if (reply.failure.kind === "unavailable") break; // asking again cannot help; the cache might
      continue;
    }
    lines.push(stats(reply.value), reply.value.text);
    const parsed = parseVerdict(reply.value.text);
    if (!parsed.ok) {
      problems.push(parsed.failure);
      continue;
    }
    const verdict: JudgeVerdict = { ...parsed.value, calls: call };
    deps.cache.put(hash, verdict);
    return outcome(verdict, "exited", [...problems, ...lines].join("\n"));
  }

  if (lastFailure?.kind === "unavailable") {
    const cached = deps.cache.get(hash);
    if (cached !== undefined) {
      return outcome({ ...cached, cached: true }, "exited", `LLM unavailable (${lastFailure.message}); verdict reused for the identical input ${hash.slice(0, 12)}`);
    }
    return outcome(needsHuman(`LLM unavailable: ${lastFailure.message}`, 1), "spawn-error", problems.join("\n"));
  }
  // `exited` means "the model gave a valid verdict"; anything else tells rules the judge itself failed (judge_error).
  const end = lastFailure?.kind === "timeout" ? "timeout" : "spawn-error";
  return outcome(needsHuman(`no valid verdict after ${String(CALLS)} tries: ${problems.at(-1) ?? "unknown"}`, CALLS), end, [...problems, ...lines].join("\n"));
}

function stats(reply: LlmReply): string {
  return `[prompt ${String(reply.promptTokens)} tokens, ${String(reply.evaluatedTokens)} evaluated; answer ${String(reply.outputTokens)} tokens in ${String(reply.durationMs)}ms]`;
}

function summarise(verdict: JudgeVerdict, threshold: number, passed: boolean): string {
  const head =
    verdict.verdict === "needs_human"
      ? "needs a human"
      : `${verdict.verdict}, confidence ${fixed(verdict.confidence)}${passed ? " >= " : verdict.verdict === "pass" ? " < " : ", threshold "}${fixed(threshold)}`;
  const reasons = [...verdict.issues, ...verdict.contradictedClaims.map((c) => `contradicted: ${c}`)];
  return `${head}${verdict.cached === true ? " (cached)" : ""}${reasons.length > 0 ? `: ${reasons.join("; ")}` : ""}`;
}
