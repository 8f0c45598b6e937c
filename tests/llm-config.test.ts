import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

describe("orchestrator.yaml llm:", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("p.yaml", "version: 1\nagent: { kind: command, run: x }\ngates:\n  review: { judge: { threshold: 0.8 } }\ntasks:\n  - { id: a, prompt: x, gates: [review] }\n");
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("accepts a judge gate and a full llm section", () => {
    rig.write(
      "orchestrator.yaml",
      "version: 1\nllm: { kind: openai-compatible, url: http://127.0.0.1:8080, model: qwen, api_key_env: MY_KEY, timeout: 90s, max_prompt_tokens: 4000, optimize_prompts: true }\n",
    );
    const result = rig.orc(["validate", "p.yaml"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("points at a misspelt kind and an unknown key", () => {
    rig.write("orchestrator.yaml", "version: 1\nllm: { kind: olama, modle: x, timeout: soon }\n");
    const result = rig.orc(["validate", "p.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('orchestrator.yaml:2:14: error: llm.kind must be one of: llama-cpp, ollama, openai-compatible (found "olama"; did you mean "ollama"?)');
    expect(result.stderr).toContain('orchestrator.yaml:2:21: error: unknown key "modle" in llm (did you mean "model"?)');
  });
});
