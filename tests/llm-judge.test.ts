import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultLlm } from "../src/config/llm.js";
import { shippedTemplate } from "../src/config/templates.js";
import type { GateOutcome } from "../src/core/events.js";
import type { JudgeGateSpec, LlmSettings } from "../src/core/pipeline.js";
import { LlamaCppProvider } from "../src/llm/llama-cpp.js";
import { judgeSteer, type JudgeSteer } from "../src/llm/testing/judge-steer.js";
import { writeTinyGguf } from "../src/llm/testing/tiny-gguf.js";
import { MemoryVerdictCache, runJudgeGate, type JudgeDeps, type VerdictCache } from "../src/quality/judge-gate.js";
import type { AttemptEvidence } from "../src/quality/port.js";
import { LocalTransport } from "../src/transports/local.js";

// Real node-llama-cpp (prebuilt CPU binary, 1 thread) on tiny Qwen2 GGUFs written here; nothing is downloaded.
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";

let dir: string;
const providers: LlamaCppProvider[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "orc-llm-"));
});
afterAll(async () => {
  for (const p of providers) await p.close();
  rmSync(dir, { recursive: true, force: true });
});

function model(name: string, steer: JudgeSteer): string {
  const file = join(dir, `${name}.gguf`);
  writeTinyGguf(file, { steer: judgeSteer(steer) });
  return file;
}

function settings(modelFile: string, extra: Partial<LlmSettings> = {}): LlmSettings {
  return { ...defaultLlm(), model: modelFile, gpu: false, threads: 1, contextSize: 4096, maxPromptTokens: 3000, maxOutputTokens: 256, ...extra };
}

function provider(s: LlmSettings): LlamaCppProvider {
  const p = new LlamaCppProvider(s);
  providers.push(p);
  return p;
}

const TASK = "Add a function `sum(a, b)` to src/math.ts that returns a + b, with a unit test in tests/math.test.ts.";

function evidence(extra: Partial<AttemptEvidence> = {}): AttemptEvidence {
  const diff = "--- a/src/math.ts\n+++ b/src/math.ts\n@@ -0,0 +1 @@\n+export const sum = (a: number, b: number) => a + b;\n";
  return {
    runId: "r-test",
    taskId: "math",
    attempt: 1,
    taskPrompt: TASK,
    claims: "Added sum() and its test; all tests pass.",
    files: [{ path: "src/math.ts", status: "added", added: 1, removed: 0, binary: false }],
    diff: () => Promise.resolve(diff),
    gates: [{ gate: "tests", kind: "command", passed: true, exitCode: 0, end: "exited", durationMs: 900, outputTail: "1 passed", summary: "exit 0 after 0.9s, 1 passed" }],
    ...extra,
  };
}

async function judge(p: LlamaCppProvider, s: LlmSettings, threshold: number, options: { cache?: VerdictCache; evidence?: AttemptEvidence } = {}): Promise<GateOutcome> {
  const spec: JudgeGateSpec = { kind: "judge", id: "review", threshold };
  const deps: JudgeDeps = { provider: p, settings: s, cache: options.cache ?? new MemoryVerdictCache(), defaultRubric: shippedTemplate("judge.liquid"), summary: () => "" };
  const ctx = { workspace: dir, transport: new LocalTransport(), env: {}, signal: new AbortController().signal, evidence: options.evidence ?? evidence() };
  return runJudgeGate(spec, ctx, deps);
}

describe("LLM judge on a real node-llama-cpp model", () => {
  it("accepts a pass verdict at or above the threshold", async () => {
    const s = settings(model("pass", { verdict: "pass", confidence: "0.9", items: false }));
    const outcome = await judge(provider(s), s, 0.7);
    expect(outcome.passed).toBe(true);
    expect(outcome.kind).toBe("judge");
    expect(outcome.verdict).toMatchObject({ verdict: "pass", confidence: 0.9, issues: [], needsHuman: false, calls: 1 });
    expect(outcome.summary).toBe("pass, confidence 0.90 >= 0.70");
  });

  it("rejects a pass verdict below the threshold, and a fail verdict with its issues", async () => {
    const s = settings(model("pass-low", { verdict: "pass", confidence: "0.9", items: false }));
    const low = await judge(provider(s), s, 0.95);
    expect(low.passed).toBe(false);
    expect(low.summary).toBe("pass, confidence 0.90 < 0.95");

    const f = settings(model("fail", { verdict: "fail", confidence: "0.1" }));
    const failed = await judge(provider(f), f, 0.7);
    expect(failed.passed).toBe(false);
    expect(failed.verdict).toMatchObject({ verdict: "fail", confidence: 0.1, issues: ["faulty code"], contradictedClaims: ["faulty code"], followUp: "faulty code" });
    expect(failed.summary).toBe("fail, confidence 0.10, threshold 0.70: faulty code; contradicted: faulty code");
  });

  it("fails closed on an out-of-range verdict: retried once, then a human is needed", async () => {
    const s = settings(model("range", { verdict: "pass", confidence: "9", items: false }));
    const outcome = await judge(provider(s), s, 0.5);
    expect(outcome.passed).toBe(false);
    expect(outcome.verdict).toMatchObject({ verdict: "needs_human", needsHuman: true, calls: 2 });
    expect(outcome.verdict?.issues[0]).toMatch(/no valid verdict after 2 tries: confidence must be a number from 0 to 1, got 9/);
    expect(outcome.end).toBe("spawn-error"); // not "exited": rules see a judge error
    expect(outcome.outputTail.match(/"confidence":9/g)).toHaveLength(2);
  });

  it("fails closed on a malformed verdict (the answer runs past its token budget)", async () => {
    const s = settings(model("endless", { verdict: "pass", confidence: "0.9", endless: true }), { maxOutputTokens: 64 });
    const outcome = await judge(provider(s), s, 0.5);
    expect(outcome.passed).toBe(false);
    expect(outcome.verdict).toMatchObject({ verdict: "needs_human", needsHuman: true, calls: 2 });
    expect(outcome.verdict?.issues[0]).toMatch(/malformed verdict \(not JSON\)/);
    expect(outcome.end).toBe("spawn-error");
  });

  it("fails closed on a timeout", async () => {
    const s = settings(model("slow", { verdict: "pass", confidence: "0.9", endless: true }), { maxOutputTokens: 2_000, timeoutMs: 30 });
    const outcome = await judge(provider(s), s, 0.5);
    expect(outcome.passed).toBe(false);
    expect(outcome.end).toBe("timeout");
    expect(outcome.verdict).toMatchObject({ verdict: "needs_human", needsHuman: true, calls: 2 });
    expect(outcome.verdict?.issues[0]).toMatch(/timeout: no answer within 30ms/);
  });

  it("reuses the task's prefix: a second verdict evaluates far fewer prompt tokens", async () => {
    const s = settings(model("prefix", { verdict: "fail", confidence: "0.1" }));
    const p = provider(s);
    const system = `You judge.\n${"The task: implement the parser described in docs/parser.md, section by section.\n".repeat(25)}`;
    const schema = { type: "object", properties: { verdict: { enum: ["pass", "fail"] } }, required: ["verdict"] };
    const ask = (prompt: string) => p.complete({ system, prompt, schema, maxTokens: 32, timeoutMs: 10_000, signal: new AbortController().signal, session: "r/t" });
    const first = await ask("Attempt 1: claims the parser is done.");
    const second = await ask("Attempt 2: claims the tests now pass.");
    if (!first.ok || !second.ok) throw new Error("the model answers");
    expect(first.value.evaluatedTokens).toBeGreaterThan(1_500);
    expect(second.value.promptTokens).toBeGreaterThan(1_500);
    expect(second.value.evaluatedTokens).toBeLessThanOrEqual(first.value.evaluatedTokens * 0.2);
  });

  it("keeps a huge diff within the prompt budget, cut with a note", async () => {
    // The budget leaves the diff a few hundred tokens after the instructions, the task, the gates and orc's claim check.
    const s = settings(model("budget", { verdict: "fail", confidence: "0.1" }), { maxPromptTokens: 1_500 });
    const huge = `+${"const x = 1; // filler line of a very large generated file\n+".repeat(5_000)}`;
    const outcome = await judge(provider(s), s, 0.7, { evidence: evidence({ diff: () => Promise.resolve(huge) }) });
    const stats = /\[prompt (\d+) tokens/.exec(outcome.outputTail);
    expect(Number(stats?.[1])).toBeLessThanOrEqual(1_500);
    expect(Number(stats?.[1])).toBeGreaterThan(1_300);
    expect(outcome.judge?.prompt).toMatch(/… \(diff cut to fit the judge's budget: \d+ tokens, kept the first [1-9]\d+\)/);
    expect(outcome.verdict?.verdict).toBe("fail");
  });

  it("with the LLM unavailable, reuses the verdict of an identical input, else needs a human", async () => {
    const file = model("gone", { verdict: "fail", confidence: "0.1" });
    const s = settings(file);
    const cache = new MemoryVerdictCache();
    const live = await judge(provider(s), s, 0.7, { cache });
    expect(live.verdict?.cached).toBeUndefined();
    unlinkSync(file);

    const cached = await judge(provider(s), s, 0.7, { cache });
    expect(cached.passed).toBe(false);
    expect(cached.verdict).toMatchObject({ verdict: "fail", confidence: 0.1, cached: true });
    expect(cached.summary).toContain("(cached)");

    const other = await judge(provider(s), s, 0.7, { cache, evidence: evidence({ claims: "something else" }) });
    expect(other.passed).toBe(false);
    expect(other.verdict).toMatchObject({ verdict: "needs_human", needsHuman: true });
    expect(other.verdict?.issues[0]).toMatch(/LLM unavailable: model file .*gone\.gguf does not exist/);
  });
});
