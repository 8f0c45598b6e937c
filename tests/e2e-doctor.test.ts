import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { judgeSteer } from "../src/llm/testing/judge-steer.js";
import { writeTinyGguf } from "../src/llm/testing/tiny-gguf.js";
import { Rig } from "./helpers/rig.js";

interface Doctor {
  ok: boolean;
  checks: { name: string; status: string; detail: string; data?: Record<string, unknown> }[];
}

describe("orc doctor", () => {
  let rig: Rig;
  const env = { NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" };
  beforeEach(() => {
    rig = new Rig();
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("loads the configured model and reports backend, load time and tokens/s", () => {
    writeTinyGguf(rig.path("judge.gguf"), { steer: judgeSteer({ verdict: "pass", confidence: "0.9" }) });
    rig.write("orchestrator.yaml", "version: 1\nllm: { model: judge.gguf, gpu: cpu, threads: 1, context_size: 2048 }\n");
    const human = rig.orc(["doctor"], { env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^ok {4}node {5}v\d+/m);
    expect(human.stdout).toMatch(/^ok {4}llm {6}llama-cpp .*judge\.gguf: backend cpu, loaded in \d+ms, \d+ tokens\/s$/m);

    const report = rig.json<Doctor>(["doctor", "--json"], { env });
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(["node", "git", "state", "llm"]));
    const llm = report.checks.find((c) => c.name === "llm");
    expect(llm?.data).toMatchObject({ kind: "llama-cpp", backend: "cpu" });
    expect(llm?.data?.tokensPerSecond).toBeGreaterThan(0);
  });

  it("exits 1 when the configured model cannot be loaded, and only warns when none is configured", () => {
    rig.write("orchestrator.yaml", "version: 1\nllm: { model: missing.gguf, gpu: cpu }\n");
    const broken = rig.orc(["doctor"], { env });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`fail  llm      llama-cpp: model file ${rig.path("missing.gguf")} does not exist`);

    rig.write("orchestrator.yaml", "version: 1\n");
    const none = rig.orc(["doctor"], { env });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("warn  llm      no model configured");
  });
});
