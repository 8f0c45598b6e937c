// (e) The LLM judge. 1: one verdict through orc's judge gate (prompt build, llama-cpp provider, grammar, parse and
// validation) vs a bare node-llama-cpp script doing the same grammar-constrained generation on the same GGUF and the
// same prompt text: target <= 1.1x. Both evaluate their prompt from scratch each time (a run number leads the text).
// 2: prompt tokens evaluated by a second verdict on the same task (the task's prefix is kept): target <= 20%.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { median, round, scratch } from "./lib.mjs";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";

const TASK = `Implement the CSV importer described below.
${Array.from({ length: 30 }, (_, i) => `${i + 1}. Requirement ${i + 1}: the importer must handle quoted fields, embedded newlines and a header row; rows that do not parse go to a rejects file with their line number.`).join("\n")}
Write unit tests for every requirement and keep the public API in src/importer/index.ts unchanged.`;

/** What orc's project summary holds after a few accepted tasks (one line each, as src/prompts/summary.ts writes them). */
const SUMMARY = Array.from({ length: 12 }, (_, i) => `- task-${i + 1}: Added module ${i + 1} of the data pipeline with tests [files: src/mod${i + 1}/index.ts, tests/mod${i + 1}.test.ts]`).join("\n");

function evidence(attempt) {
  // Attempt 2 is a fix: a different, smaller diff.
  const lines = attempt === 1 ? 12 : 4;
  const diff = Array.from({ length: lines }, (_, i) => `+export function parseField${i}(text: string): string { return text.trim${attempt === 1 ? "" : "Start"}(); }`).join("\n");
  return {
    runId: "bench",
    taskId: "csv",
    attempt,
    taskPrompt: TASK,
    claims: attempt === 1 ? "Implemented the importer and all requirements; tests pass." : "Fixed the quoted-field handling; tests pass now.",
    files: [{ path: "src/importer/parse.ts", status: "modified", added: lines, removed: 0, binary: false }],
    diff: () => Promise.resolve(`--- a/src/importer/parse.ts\n+++ b/src/importer/parse.ts\n@@ -1,0 +1,${lines} @@\n${diff}\n`),
    gates: [{ gate: "tests", kind: "command", passed: attempt > 1, exitCode: attempt > 1 ? 0 : 1, end: "exited", durationMs: 2100, outputTail: attempt > 1 ? "31 passed" : "29 passed, 2 failed", summary: attempt > 1 ? "exit 0, 31 passed" : "exit 1, 29 passed, 2 failed" }],
  };
}

export async function run({ runs = 15 } = {}) {
  const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
  const [{ writeTinyGguf }, { judgeSteer }, { LlamaCppProvider }, { defaultLlm }, { shippedTemplate }, judgeGate, { buildJudgePrompt }, { verdictSchema }, { chatTokens, grammarSchema }, { checkClaims, describeContradiction }] =
    await Promise.all([
      dist("llm/testing/tiny-gguf.js"),
      dist("llm/testing/judge-steer.js"),
      dist("llm/llama-cpp.js"),
      dist("config/llm.js"),
      dist("config/templates.js"),
      dist("quality/judge-gate.js"),
      dist("quality/judge-prompt.js"),
      dist("llm/verdict-schema.js"),
      dist("llm/chatml.js"),
      dist("core/claims.js"),
    ]);
  const { getLlama, LlamaCompletion } = await import("node-llama-cpp");
  const dir = scratch("orc-bench-judge-");
  const modelPath = join(dir, "judge.gguf");
  writeTinyGguf(modelPath, { steer: judgeSteer({ verdict: "fail", confidence: "0.1" }) });
  const settings = { ...defaultLlm(), model: modelPath, gpu: false, threads: 1, contextSize: 8192, maxPromptTokens: 6000, maxOutputTokens: 256 };
  const rubric = shippedTemplate("judge.liquid");
  const spec = { kind: "judge", id: "review", threshold: 0.7 };
  const signal = new globalThis.AbortController().signal;

  // orc: the judge gate end to end.
  const provider = new LlamaCppProvider(settings);
  const deps = (summary) => ({ provider, settings, cache: new judgeGate.MemoryVerdictCache(), defaultRubric: rubric, summary: () => summary });
  const orcVerdict = async (i) => {
    const outcome = await judgeGate.runJudgeGate(spec, { workspace: dir, env: {}, signal, evidence: { ...evidence(1), taskPrompt: `run ${i}\n${TASK}` } }, deps(SUMMARY));
    if (outcome.verdict?.verdict !== "fail") throw new Error(`orc's judge gave no verdict: ${outcome.summary}`);
  };

  // Floor: bare node-llama-cpp on the same prompt text (rendered once by orc's prompt builder).
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: "error" });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 8192, threads: 1 });
  const sequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence });
  const grammar = await llama.createGrammarForJsonSchema(grammarSchema(verdictSchema()));
  // The same prompt text orc sends, rendered up front (outside the timing) for every run: with the claims check the
  // judge gate adds (its lines are part of the text the model evaluates).
  const prompts = new Map();
  const claimed = checkClaims(evidence(1).claims, evidence(1).files, evidence(1).gates);
  const checks = { contradictions: claimed.contradictions.map(describeContradiction), unverified: claimed.unverified };
  for (let i = -2; i < 2 * runs; i++) {
    const p = await buildJudgePrompt({ rubric, threshold: 0.7, summary: SUMMARY, ...evidence(1), ...checks, taskPrompt: `run ${i}\n${TASK}`, diff: await evidence(1).diff() }, provider, 6000);
    prompts.set(i, chatTokens(model, p.system, p.prompt));
  }
  const bareVerdict = async (i) => {
    const text = await completion.generateCompletion(prompts.get(i), { grammar, maxTokens: 256 });
    if (JSON.parse(text).verdict !== "fail") throw new Error("bare script gave no verdict");
  };

  const timed = async (fn, i) => {
    const start = process.hrtime.bigint();
    await fn(i);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  await timed(orcVerdict, -1);
  await timed(bareVerdict, -2);
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    a.push(await timed(orcVerdict, 2 * i));
    b.push(await timed(bareVerdict, 2 * i + 1));
  }

  // Prefix reuse: two verdicts on one task, attempts 1 and 2.
  const evaluated = [];
  for (const attempt of [1, 2]) {
    const outcome = await judgeGate.runJudgeGate(spec, { workspace: dir, env: {}, signal, evidence: { ...evidence(attempt), runId: "bench-prefix" } }, deps(SUMMARY));
    const m = /\[prompt (\d+) tokens, (\d+) evaluated/.exec(outcome.outputTail);
    evaluated.push({ prompt: Number(m?.[1]), evaluated: Number(m?.[2]) });
  }

  await provider.close();
  await llama.dispose();
  rmSync(dir, { recursive: true, force: true });
  const subjectMs = median(a);
  const floorMs = median(b);
  return {
    name: "judge",
    subject_ms: round(subjectMs),
    floor_ms: round(floorMs),
    ratio: round(subjectMs / floorMs, 2),
    runs,
    target: "<= 1.1x",
    prefix: {
      first_prompt_tokens: evaluated[0].prompt,
      first_evaluated: evaluated[0].evaluated,
      second_prompt_tokens: evaluated[1].prompt,
      second_evaluated: evaluated[1].evaluated,
      ratio: round(evaluated[1].evaluated / evaluated[0].evaluated, 3),
      target: "<= 0.2",
    },
  };
}
