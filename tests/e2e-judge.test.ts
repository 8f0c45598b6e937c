import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { evidenceJudge, judgeSteer, type JudgeSteer } from "../src/llm/testing/judge-steer.js";
import { writeTinyGguf } from "../src/llm/testing/tiny-gguf.js";
import { ORC, REPO, Rig, type CliResult } from "./helpers/rig.js";

interface Verdict {
  verdict: string;
  confidence: number;
  issues: string[];
  contradictedClaims: string[];
  followUp?: string;
  needsHuman: boolean;
}
interface Status {
  run: { status: string };
  tasks: {
    id: string;
    status: string;
    confidence?: number;
    attempts: {
      prompt: string;
      decision?: string;
      reasons: string[];
      gates: { gate: string; kind: string; passed: boolean; summary: string; verdict?: Verdict; judge?: { system: string; prompt: string; model: string; hash: string } }[];
    }[];
  }[];
}

/** The agent says it is done and writes a file; what it was told is in its prompt file. */
const AGENT = `
import { readFileSync, writeFileSync } from "node:fs";
const prompt = readFileSync(0, "utf8");
writeFileSync("prompt-" + process.env.ORC_TASK_ID + "-" + process.env.ORC_ATTEMPT + ".txt", prompt);
writeFileSync(process.env.ORC_TASK_ID + ".txt", "attempt " + process.env.ORC_ATTEMPT + "\\n");
console.log("Done: wrote " + process.env.ORC_TASK_ID + ".txt and all tests pass");
`;

describe("orc apply with a judge gate (real node-llama-cpp on a generated GGUF)", () => {
  let rig: Rig;
  const env = { NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" };
  beforeEach(() => {
    rig = new Rig();
    rig.write("agent.mjs", AGENT);
  });
  afterEach(() => {
    rig.cleanup();
  });

  function project(steer: JudgeSteer | undefined, tasks: string): void {
    // The agent's prompt logs are the test's, not the task's work: ignored, so undoing a failed task keeps them.
    rig.write(".gitignore", "prompt-*.txt\n");
    if (steer !== undefined) writeTinyGguf(rig.path("judge.gguf"), { steer: judgeSteer(steer) });
    rig.write(
      "orchestrator.yaml",
      steer === undefined ? "version: 1\n" : "version: 1\nllm: { model: judge.gguf, gpu: cpu, threads: 1, context_size: 4096, timeout: 30s }\n",
    );
    rig.write(
      "pipeline.yaml",
      `version: 1\nname: judged\nagent: { kind: command, run: node agent.mjs }\ngates:\n  review: { judge: { threshold: 0.7 } }\ntasks:\n${tasks}`,
    );
  }

  it("a failing verdict decides a retry; verdict, confidence and reasons show in status --json and in the retry prompt", () => {
    project({ verdict: "fail", confidence: "0.1" }, "  - { id: greet, prompt: Write greet.txt, gates: [review], max_attempts: 2 }\n");
    const run = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain("[greet] gate review failed: fail, confidence 0.10, threshold 0.70: faulty code; contradicted: faulty code");
    expect(run.stdout).toContain("[greet] attempt 1: retry (gate review failed: fail, confidence 0.10");

    const status = rig.json<Status>(["status", "--json"]);
    const task = status.tasks[0];
    expect(task?.status).toBe("failed");
    expect(task?.confidence).toBe(0.1);
    const first = task?.attempts[0];
    expect(first?.decision).toBe("retry");
    expect(first?.reasons).toEqual(["gate review failed: fail, confidence 0.10, threshold 0.70: faulty code; contradicted: faulty code"]);
    expect(first?.gates[0]).toMatchObject({
      gate: "review",
      kind: "judge",
      passed: false,
      verdict: { verdict: "fail", confidence: 0.1, issues: ["faulty code"], contradictedClaims: ["faulty code"], followUp: "faulty code", needsHuman: false },
    });

    // The judge's exact input is kept with its verdict: what it was asked can be audited after the run.
    const asked = first?.gates[0]?.judge;
    expect(asked?.model).toMatch(/^llama-cpp:.*judge\.gguf$/);
    expect(asked?.system).toContain("## The task\nWrite greet.txt");
    expect(asked?.prompt).toContain("- greet.txt (added, +1 -0)");
    expect(asked?.prompt).toContain("+attempt 1");
    expect(asked?.prompt).toContain("- unverified: Done: wrote greet.txt and all tests pass (no command gate ran)");
    expect(asked?.prompt).toContain("## The agent's claims\nDone: wrote greet.txt and all tests pass");

    expect(rig.orc(["status"]).stdout).toMatch(/greet +failed +2\/2 attempts {2}confidence 0\.10 {2}gate review failed: fail, confidence 0\.10/);

    const retry = rig.read("prompt-greet-2.txt");
    expect(retry).toContain("Write greet.txt");
    expect(retry).toContain("The judge's verdict: fail (confidence 0.1)\n- issue: faulty code\n- your claim contradicted by the evidence: faulty code\nWhat to do next: faulty code");
    expect(task?.attempts[1]?.prompt).toBe(retry);
  });

  it("a passing verdict above the threshold accepts; the project summary reaches the next task's template", () => {
    project(
      { verdict: "pass", confidence: "0.9", items: false },
      "  - { id: a, prompt: Write a.txt, gates: [review] }\n" +
        '  - { id: b, needs: [a], prompt: "Write b.txt. So far:\\n{{ project.summary }}", gates: [review] }\n',
    );
    const run = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(run.code, run.stderr).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks.map((t) => [t.id, t.status, t.confidence])).toEqual([
      ["a", "accepted", 0.9],
      ["b", "accepted", 0.9],
    ]);
    expect(status.tasks[0]?.attempts[0]?.gates[0]?.summary).toBe("pass, confidence 0.90 >= 0.70");
    expect(rig.read("prompt-b-1.txt")).toBe("Write b.txt. So far:\n- a: Done: wrote a.txt and all tests pass [files: a.txt]");
    // Both passes held (accepted, not rolled back): the 0.9 band's calibration shows 2 passes, none turned down.
    const stats = rig.json<{ confidenceOverTime: { verdicts: number; meanConfidence: number }[]; calibration: { band: string; accepted: number; laterRejected: number }[] }>(["stats", "--json"]);
    expect(stats.confidenceOverTime).toMatchObject([{ verdicts: 2, meanConfidence: 0.9 }]);
    expect(stats.calibration.at(-1)).toEqual({ band: "[0.9, 1]", accepted: 2, laterRejected: 0, rejectedRate: 0 });
  });

  function rewrites(): { used: boolean; reason: string }[] {
    const runId = rig.json<{ run: { id: string } }>(["status", "--json"]).run.id;
    const lines = rig.orc(["logs", runId, "--json"]).stdout.split("\n").filter((l) => l.trim() !== "");
    return lines.map((l) => JSON.parse(l) as { type: string; used: boolean; reason: string }).filter((e) => e.type === "prompt.rewritten").map(({ used, reason }) => ({ used, reason }));
  }

  /**
   * The tiny model's rewrite of any prompt is its steered phrase, "faulty code": a task "fault" failing a gate "code"
   * whose issue is "faulty code" is all in it. `llm`: the orchestrator.yaml settings besides the model's.
   */
  function applyFaultWithRewrites(llm: string): CliResult {
    project({ verdict: "fail", confidence: "0.1" }, "");
    rig.write("orchestrator.yaml", `version: 1\nllm: { model: judge.gguf, gpu: cpu, threads: 1, optimize_prompts: true, ${llm} }\n`);
    rig.write("pipeline.yaml", "version: 1\nname: judged\nagent: { kind: command, run: node agent.mjs }\ngates:\n  code: { judge: { threshold: 0.7 } }\ntasks:\n  - { id: greet, prompt: fault, gates: [code], max_attempts: 2 }\n");
    return rig.orc(["apply", "pipeline.yaml"], { env });
  }

  it("optimize_prompts: a rewrite that keeps the task and the failing evidence is what the agent gets", () => {
    const run = applyFaultWithRewrites("context_size: 4096, max_prompt_tokens: 2000");
    expect(run.code, run.stderr).toBe(1);
    expect(rig.read("prompt-greet-1.txt")).toBe("fault");
    expect(rig.read("prompt-greet-2.txt")).toBe("faulty code");
    expect(rig.json<Status>(["status", "--json"]).tasks[0]?.attempts[1]?.prompt).toBe("faulty code");
    expect(rewrites()).toEqual([{ used: true, reason: "" }]);
  });

  it("optimize_prompts: in a context too small for the default answer room, the prompt and its rewrite share it", () => {
    // 2048 tokens cannot hold four answers (3072) and a prompt: the rewrite gets half of what the instructions leave.
    const run = applyFaultWithRewrites("context_size: 2048");
    expect(run.code, run.stderr).toBe(1);
    expect(rig.read("prompt-greet-2.txt")).toBe("faulty code");
    expect(rewrites()).toEqual([{ used: true, reason: "" }]);
  });

  it("optimize_prompts: a rewrite that drops the task is not sent; the template's prompt is, and the reason is recorded", () => {
    project({ verdict: "fail", confidence: "0.1" }, "  - { id: greet, prompt: Write greet.txt, gates: [review], max_attempts: 2 }\n");
    rig.write("orchestrator.yaml", "version: 1\nllm: { model: judge.gguf, gpu: cpu, threads: 1, context_size: 4096, optimize_prompts: true, max_prompt_tokens: 2000 }\n");
    const run = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(run.code, run.stderr).toBe(1);
    const retry = rig.read("prompt-greet-2.txt");
    expect(retry).toContain("Write greet.txt");
    expect(retry).toContain('Gate "review" failed');
    expect(rewrites()).toEqual([{ used: false, reason: 'the rewrite dropped "Write greet.txt", "review"' }]);
    expect(run.stdout).toContain('[greet] retry prompt sent as written: the rewrite dropped "Write greet.txt", "review"');
  });

  it("node-llama-cpp is loaded only by a run that has a judge gate", () => {
    project({ verdict: "pass", confidence: "0.9", items: false }, "  - { id: a, prompt: Write a.txt }\n");
    rig.write("judged.yaml", `version: 1\nname: judged\nagent: { kind: command, run: node agent.mjs }\ngates:\n  review: { judge: {} }\ntasks:\n  - { id: b, prompt: Write b.txt, gates: [review] }\n`);
    const loaded = (file: string): string => {
      // Beside the project, not in it: orc's own requires during an attempt are not the agent's work for the judge.
      const trace = join(rig.base, `${file}.loaded`);
      const result = spawnSync(process.execPath, ["--import", join(REPO, "tests", "fixtures", "trace-imports.mjs"), ORC, "apply", file], {
        cwd: rig.dir,
        encoding: "utf8",
        env: rig.env({ ...env, ORC_TRACE_IMPORTS: trace }),
      });
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      return readFileSync(trace, "utf8");
    };
    expect(loaded("pipeline.yaml")).not.toContain("node-llama-cpp");
    expect(loaded("judged.yaml")).toContain("node-llama-cpp");
  });

  it("a model context smaller than max_prompt_tokens gets the diff cut to fit, not a prompt it refuses", () => {
    project({ verdict: "pass", confidence: "0.9", items: false }, "  - { id: big, prompt: Write big.txt, gates: [review] }\n");
    // 2048 tokens of context and 768 for the answer leave 1280 for the prompt, under the default 6000 budget.
    rig.write("orchestrator.yaml", "version: 1\nllm: { model: judge.gguf, gpu: cpu, threads: 1, context_size: 2048, timeout: 30s }\n");
    rig.write("agent.mjs", `import { writeFileSync } from "node:fs";\nwriteFileSync("big.txt", "a line the judge need not read\\n".repeat(400));\nconsole.log("Done");\n`);
    const run = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const gate = rig.json<Status>(["status", "--json"]).tasks[0]?.attempts[0]?.gates[0];
    expect(gate).toMatchObject({ passed: true, verdict: { verdict: "pass", confidence: 0.9 } });
    expect(gate?.judge?.prompt).toMatch(/diff cut to fit the judge's budget: \d+ tokens, kept the first \d+\)/);
  });

  it("a prompt that nearly fills the context is judged whole: the task at its start is never dropped to make room", () => {
    // This judge fails the work only when it reads "F", which is in the task alone. A 128-token answer lets the prompt
    // take nearly all of 4096 tokens, past the tenth node-llama-cpp keeps free by cutting a prompt's start.
    rig.write(".gitignore", "prompt-*.txt\n");
    writeTinyGguf(rig.path("judge.gguf"), evidenceJudge("F"));
    rig.write("orchestrator.yaml", "version: 1\nllm: { model: judge.gguf, gpu: cpu, threads: 1, context_size: 4096, max_output_tokens: 128, timeout: 30s }\n");
    rig.write("pipeline.yaml", `version: 1\nname: judged\nagent: { kind: command, run: node agent.mjs }\ngates:\n  review: { judge: { threshold: 0.7 } }\ntasks:\n  - { id: big, prompt: "F: write big.txt", gates: [review], max_attempts: 1 }\n`);
    rig.write("agent.mjs", `import { writeFileSync } from "node:fs";\nwriteFileSync("big.txt", "a line the judge need not read\\n".repeat(400));\nconsole.log("Done");\n`);
    const run = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const gate = rig.json<Status>(["status", "--json"]).tasks[0]?.attempts[0]?.gates[0];
    expect(gate).toMatchObject({ passed: false, verdict: { verdict: "fail", confidence: 0.1 } });
    expect(gate?.judge?.prompt).toContain("diff cut to fit the judge's budget");
  });

  it("a long list of changed files gives way to fit the context, and the judge is told how many it does not see", () => {
    project({ verdict: "pass", confidence: "0.9", items: false }, "  - { id: widgets, prompt: Write the widgets, gates: [review] }\n");
    rig.write("orchestrator.yaml", "version: 1\nllm: { model: judge.gguf, gpu: cpu, threads: 1, context_size: 4096, timeout: 30s }\n");
    rig.write(
      "agent.mjs",
      `import { mkdirSync, writeFileSync } from "node:fs";\nmkdirSync("src/components", { recursive: true });\nfor (let i = 0; i < 80; i++) writeFileSync("src/components/widget-" + String(i).padStart(3, "0") + ".tsx", "x\\n");\nconsole.log("Done");\n`,
    );
    const run = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const prompt = rig.json<Status>(["status", "--json"]).tasks[0]?.attempts[0]?.gates[0]?.judge?.prompt ?? "";
    const listed = prompt.split("\n").filter((line) => line.startsWith("- src/components/widget-")).length;
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThan(80);
    expect(prompt).toContain(`- … ${String(80 - listed)} more left out to fit the judge's budget`);
  });

  it("with no model configured, the judge fails closed and asks for a human (never a silent accept)", () => {
    project(undefined, "  - { id: greet, prompt: Write greet.txt, gates: [review], max_attempts: 1 }\n");
    const run = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(run.code).not.toBe(0);
    const gate = rig.json<Status>(["status", "--json"]).tasks[0]?.attempts[0]?.gates[0];
    expect(gate?.passed).toBe(false);
    expect(gate?.verdict).toMatchObject({ verdict: "needs_human", needsHuman: true });
    expect(gate?.summary).toMatch(/^needs a human: LLM unavailable: no model configured \(set llm.model in orchestrator.yaml/);
  });
});
