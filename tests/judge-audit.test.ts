import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultLlm } from "../src/config/llm.js";
import { shippedTemplate } from "../src/config/templates.js";
import type { GateOutcome } from "../src/core/events.js";
import type { JudgeGateSpec } from "../src/core/pipeline.js";
import { LlamaCppProvider } from "../src/llm/llama-cpp.js";
import { evidenceJudge } from "../src/llm/testing/judge-steer.js";
import { writeTinyGguf } from "../src/llm/testing/tiny-gguf.js";
import { MemoryVerdictCache, runJudgeGate, type JudgeDeps } from "../src/quality/judge-gate.js";
import type { AttemptEvidence } from "../src/quality/port.js";
import { LocalTransport } from "../src/transports/local.js";

// Real node-llama-cpp (prebuilt CPU binary) on a generated GGUF whose answer depends on its prompt: it fails an attempt
// when the letter F is in what it reads, which in these prompts only the rubric's "FAILED" for a failed gate writes.
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";

let dir: string;
let provider: LlamaCppProvider;
let deps: JudgeDeps;

const TASK = "Add a function `sum(a, b)` to src/math.ts that returns a + b, with a unit test in tests/math.test.ts.";
const DIFF = "--- a/src/math.ts\n+++ b/src/math.ts\n@@ -0,0 +1 @@\n+export const sum = (a: number, b: number) => a + b;\n";
const PASSING: GateOutcome = { gate: "tests", kind: "command", passed: true, exitCode: 0, end: "exited", durationMs: 900, outputTail: "1 passed", summary: "exit 0 after 0.9s, 1 passed" };
const FAILING: GateOutcome = { ...PASSING, passed: false, exitCode: 1, outputTail: "expected 3, got 4", summary: "exit 1 after 0.9s, 0 passed, 1 failed" };

function evidence(gate: GateOutcome): AttemptEvidence {
  return {
    runId: "r-audit",
    taskId: "math",
    attempt: 1,
    taskPrompt: TASK,
    claims: "Added sum() in src/math.ts; all tests pass.",
    files: [{ path: "src/math.ts", status: "added", added: 1, removed: 0, binary: false }],
    diff: () => Promise.resolve(DIFF),
    gates: [gate],
  };
}

const spec: JudgeGateSpec = { kind: "judge", id: "review", threshold: 0.7 };
const judge = (gate: GateOutcome): Promise<GateOutcome> =>
  runJudgeGate(spec, { workspace: dir, transport: new LocalTransport(), env: {}, signal: new AbortController().signal, evidence: evidence(gate) }, deps);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "orc-audit-"));
  const file = join(dir, "evidence-judge.gguf");
  writeTinyGguf(file, evidenceJudge("F"));
  const settings = { ...defaultLlm(), model: file, gpu: false as const, threads: 1, contextSize: 4096, maxPromptTokens: 3000, maxOutputTokens: 256 };
  provider = new LlamaCppProvider(settings);
  deps = { provider, settings, cache: new MemoryVerdictCache(), defaultRubric: shippedTemplate("judge.liquid"), summary: () => "" };
});
afterAll(async () => {
  await provider.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("an auditable judge", () => {
  it("the verdict follows the evidence: the same attempt passes with a green test gate and fails with a red one", async () => {
    const green = await judge(PASSING);
    expect(green.verdict).toMatchObject({ verdict: "pass", confidence: 0.9, followUp: "proven", needsHuman: false });
    expect(green.passed).toBe(true);

    const red = await judge(FAILING);
    expect(red.verdict).toMatchObject({ verdict: "fail", confidence: 0.1, followUp: "faulty", needsHuman: false });
    expect(red.passed).toBe(false);
  });

  it("reads its whole prompt: a marker at the start of a long task prompt still decides", async () => {
    const far = await runJudgeGate(
      spec,
      { workspace: dir, transport: new LocalTransport(), env: {}, signal: new AbortController().signal, evidence: { ...evidence(PASSING), taskPrompt: `FIRST: ${"keep it small. ".repeat(150)}${TASK}` } },
      deps,
    );
    expect(far.verdict?.verdict).toBe("fail");
  });

  it("stores the exact prompt it sent: the task, the claims, the diff, the gate evidence and orc's own claim check", async () => {
    const red = await judge(FAILING);
    const audit = red.judge;
    expect(audit?.model).toMatch(/^llama-cpp:.*evidence-judge\.gguf$/);
    expect(audit?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(audit?.system).toContain(`## The task\n${TASK}`);
    expect(audit?.prompt).toContain("## The agent's claims\nAdded sum() in src/math.ts; all tests pass.");
    expect(audit?.prompt).toContain(DIFF);
    expect(audit?.prompt).toContain("- tests: FAILED (exit 1): exit 1 after 0.9s, 0 passed, 1 failed\n```\nexpected 3, got 4\n```");
    expect(audit?.prompt).toContain('- contradicted: "Added sum() in src/math.ts; all tests pass.": gate tests failed: exit 1 after 0.9s, 0 passed, 1 failed');

    const green = await judge(PASSING);
    expect(green.judge?.prompt).toContain("- tests: passed (exit 0): exit 0 after 0.9s, 1 passed");
    expect(green.judge?.prompt).not.toContain("contradicted:");
    expect(green.judge?.hash).not.toBe(audit?.hash);
  });

  it("shows the baseline: the same gates before the task, so a failing test that now passes is evidence", async () => {
    const before: GateOutcome = { ...FAILING, tests: { passed: 0, failed: 1, skipped: 0, total: 1 } };
    const now = await runJudgeGate(
      spec,
      { workspace: dir, transport: new LocalTransport(), env: {}, signal: new AbortController().signal, evidence: { ...evidence(PASSING), baseline: [before] } },
      deps,
    );
    expect(now.judge?.prompt).toContain("## The same gates before the task (baseline)\n- tests: failed (0 passed, 1 failed, 0 skipped)");
    // Written so that it does not read as a failure of this attempt: the verdict still follows this attempt's gates.
    expect(now.verdict?.verdict).toBe("pass");
  });
});
