import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultLlm } from "../src/config/llm.js";
import { shippedTemplate } from "../src/config/templates.js";
import type { LlmSettings } from "../src/core/pipeline.js";
import { LlamaCppProvider } from "../src/llm/llama-cpp.js";
import { OllamaProvider } from "../src/llm/ollama.js";
import { OpenAiCompatibleProvider } from "../src/llm/openai-compatible.js";
import type { LlmProvider } from "../src/llm/port.js";
import { judgeSteer } from "../src/llm/testing/judge-steer.js";
import { writeTinyGguf } from "../src/llm/testing/tiny-gguf.js";
import { MemoryVerdictCache, runJudgeGate } from "../src/quality/judge-gate.js";
import { LocalTransport } from "../src/transports/local.js";
import { ollamaServer, openAiServer, type ProtocolServer } from "./helpers/llm-servers.js";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";

let dir: string;
let model: LlamaCppProvider;
const servers: ProtocolServer[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "orc-llm-http-"));
  const file = join(dir, "fail.gguf");
  writeTinyGguf(file, { steer: judgeSteer({ verdict: "fail", confidence: "0.1" }) });
  model = new LlamaCppProvider({ ...defaultLlm(), model: file, gpu: false, threads: 1, contextSize: 4096 });
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await model.close();
  rmSync(dir, { recursive: true, force: true });
});

function judge(provider: LlmProvider, settings: LlmSettings) {
  const evidence = {
    runId: "r",
    taskId: "t",
    attempt: 1,
    taskPrompt: "Write hello.txt containing hello.",
    claims: "Wrote hello.txt.",
    files: [],
    diff: () => Promise.resolve(""),
    gates: [],
  };
  return runJudgeGate(
    { kind: "judge", id: "review", threshold: 0.5 },
    { workspace: dir, transport: new LocalTransport(), env: {}, signal: new AbortController().signal, evidence },
    { provider, settings, cache: new MemoryVerdictCache(), defaultRubric: shippedTemplate("judge.liquid"), summary: () => "" },
  );
}

describe("LLM providers over HTTP (protocol servers answering through the real model)", () => {
  it("ollama: /api/chat with the verdict schema as format", async () => {
    const server = await ollamaServer(model, "tiny");
    servers.push(server);
    const settings: LlmSettings = { ...defaultLlm(), kind: "ollama", model: "tiny", url: server.url };
    const provider = new OllamaProvider(settings);
    const loaded = await provider.load();
    expect(loaded.ok && loaded.value.backend).toBe(server.url);
    const outcome = await judge(provider, settings);
    expect(outcome.passed).toBe(false);
    expect(outcome.verdict).toMatchObject({ verdict: "fail", confidence: 0.1, issues: ["faulty code"] });
    const chat = server.requests.find((r) => r.path === "/api/chat")?.body as { format: { required: string[] }; stream: boolean };
    expect(chat.stream).toBe(false);
    expect(chat.format.required).toEqual(["verdict", "confidence", "issues", "contradicted_claims", "follow_up"]);

    const missing = await new OllamaProvider({ ...settings, model: "nope" }).load();
    expect(!missing.ok && missing.failure.message).toBe(`Ollama at ${server.url} has no model nope (ollama pull nope)`);
  });

  it("openai-compatible: /v1/chat/completions with a json_schema response format and the key from the environment", async () => {
    const server = await openAiServer(model, "tiny");
    servers.push(server);
    const settings: LlmSettings = { ...defaultLlm(), kind: "openai-compatible", model: "tiny", url: server.url, apiKeyEnv: "TEST_LLM_KEY" };
    const provider = new OpenAiCompatibleProvider(settings, { TEST_LLM_KEY: "sk-test-123" });
    const outcome = await judge(provider, settings);
    expect(outcome.passed).toBe(false);
    expect(outcome.verdict).toMatchObject({ verdict: "fail", confidence: 0.1, contradictedClaims: ["faulty code"] });
    const request = server.requests.find((r) => r.path === "/v1/chat/completions");
    expect(request?.headers.authorization).toBe("Bearer sk-test-123");
    expect((request?.body as { response_format: { type: string } }).response_format.type).toBe("json_schema");
  });

  it("a server that is not there: fails closed, a human is needed", async () => {
    const server = await openAiServer(model, "tiny");
    await server.close();
    const settings: LlmSettings = { ...defaultLlm(), kind: "openai-compatible", url: server.url };
    const outcome = await judge(new OpenAiCompatibleProvider(settings, {}), settings);
    expect(outcome.passed).toBe(false);
    expect(outcome.verdict).toMatchObject({ verdict: "needs_human", needsHuman: true });
    expect(outcome.verdict?.issues[0]).toContain(`LLM unavailable: ${server.url}/v1/chat/completions cannot be reached`);
  });
});
