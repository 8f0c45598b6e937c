import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claimsFrom, commandAgent, formatLimit } from "../src/agents/command.js";
import type { AgentRunInput } from "../src/agents/port.js";
import { loadAgent, registerAgent, registeredAgentKinds } from "../src/agents/registry.js";
import type { AgentSpec } from "../src/core/pipeline.js";
import { AGENT_KINDS } from "../src/core/kinds.js";
import { LocalTransport } from "../src/transports/local.js";

const workspace = realpathSync(mkdtempSync(path.join(tmpdir(), "orc-agent-")));
const promptFile = path.join(workspace, ".orc-prompt.md");
afterAll(() => {
  rmSync(workspace, { recursive: true, force: true });
});

function input(run: string, over: Partial<AgentSpec> = {}, signal: AbortSignal = new AbortController().signal): AgentRunInput {
  const prompt = "Fix the bug.\nThen say what you did: ünïcödé ✓\n";
  writeFileSync(promptFile, prompt);
  return {
    spec: { kind: "command", run, timeoutMs: 30_000, inactivityTimeoutMs: 0, env: {}, options: {}, ...over },
    prompt,
    promptFile,
    scratchDir: path.join(workspace, ".orc-scratch"),
    workspace,
    runId: "r-20260101-000000-abcdef",
    taskId: "fix-bug",
    attempt: 2,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BASE: "base" },
    transport: new LocalTransport(),
    signal,
  };
}

describe("command agent", () => {
  it("runs in the workspace with every ORC_* variable, agent.env, and the prompt on stdin", async () => {
    const script = [
      "pwd > seen.txt",
      'for v in ORC_RUN_ID ORC_TASK_ID ORC_ATTEMPT ORC_WORKSPACE ORC_PROMPT_FILE BASE EXTRA; do eval "echo $v=\\$$v"; done >> seen.txt',
      "cat > stdin.txt",
      "echo 'I fixed the bug.'",
      "exit 0",
    ].join("\n");
    const out = await commandAgent.run(input(script, { env: { EXTRA: "extra", ORC_ATTEMPT: "overridden?" } }));
    expect(out).toMatchObject({ end: "exited", exitCode: 0, signal: null, claims: "I fixed the bug." });
    expect(out.error).toBeUndefined();
    expect(readFileSync(path.join(workspace, "seen.txt"), "utf8").split("\n")).toEqual([
      workspace,
      "ORC_RUN_ID=r-20260101-000000-abcdef",
      "ORC_TASK_ID=fix-bug",
      "ORC_ATTEMPT=2",
      `ORC_WORKSPACE=${workspace}`,
      `ORC_PROMPT_FILE=${promptFile}`,
      "BASE=base",
      "EXTRA=extra",
      "",
    ]);
    expect(readFileSync(path.join(workspace, "stdin.txt"), "utf8")).toBe(readFileSync(promptFile, "utf8"));
  });

  it("records a failing exit code and keeps the combined output as evidence", async () => {
    const out = await commandAgent.run(input("echo working; echo 'oops' >&2; exit 7"));
    expect(out).toMatchObject({ end: "exited", exitCode: 7, claims: "working" });
    expect(out.outputTail).toContain("working\n");
    expect(out.outputTail).toContain("oops\n");
    expect(out.error).toBeUndefined();
  });

  it("keeps only the end of a long final message as claims", async () => {
    const out = await commandAgent.run(input("seq 1 5000; echo '  DONE  '"));
    expect(out.claims.endsWith("4999\n5000\n  DONE")).toBe(true);
    expect(out.claims.length).toBeLessThanOrEqual(2000);
  });

  it("says when the agent stalled", async () => {
    const out = await commandAgent.run(input("echo thinking; sleep 100", { inactivityTimeoutMs: 300 }));
    expect(out).toMatchObject({ end: "stalled", exitCode: null, error: "no output for 300ms (inactivity timeout)" });
    expect(out.outputTail).toBe("thinking\n");
  });

  it("says when the agent timed out", async () => {
    const out = await commandAgent.run(input("sleep 100", { timeoutMs: 1000 }));
    expect(out).toMatchObject({ end: "timeout", error: "timed out after 1s (agent timeout)" });
  });

  it("stops when the run is cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => { controller.abort(); }, 200);
    const out = await commandAgent.run(input("sleep 100", {}, controller.signal));
    expect(out).toMatchObject({ end: "cancelled", error: "cancelled" });
  });

  it("reports a workspace that does not exist as an error, not a throw", async () => {
    const out = await commandAgent.run({ ...input("true"), workspace: path.join(workspace, "missing") });
    expect(out.end).toBe("spawn-error");
    expect(out.error).toMatch(/^the agent could not be started: working directory does not exist/);
  });

  it("needs agent.run", async () => {
    const base = input("true");
    const spec: AgentSpec = { kind: "command", timeoutMs: 1000, inactivityTimeoutMs: 0, env: {}, options: {} };
    const out = await commandAgent.run({ ...base, spec });
    expect(out).toMatchObject({ end: "spawn-error" });
    expect(out.error).toContain("agent.run");
  });
});

describe("helpers", () => {
  it("formats limits the way users write them", () => {
    expect(formatLimit(300)).toBe("300ms");
    expect(formatLimit(10_000)).toBe("10s");
    expect(formatLimit(90_000)).toBe("1m30s");
    expect(formatLimit(7_200_000)).toBe("2h");
    expect(formatLimit(1500)).toBe("1.5s");
  });

  it("never starts claims with half a surrogate pair", () => {
    const text = "x" + "😀".repeat(1500);
    expect(claimsFrom(text).startsWith("😀")).toBe(true);
    expect(claimsFrom(text)).not.toMatch(/^[\uDC00-\uDFFF]/);
  });
});

describe("agent registry", () => {
  it("registers exactly AGENT_KINDS", () => {
    expect([...registeredAgentKinds()].sort()).toEqual([...AGENT_KINDS].sort());
  });

  it("loads the command agent lazily", async () => {
    const plugin = await loadAgent("command");
    expect(plugin.kind).toBe("command");
    expect(plugin).toBe(commandAgent);
  });

  it("rejects an unknown kind and a duplicate registration", async () => {
    await expect(loadAgent("nope")).rejects.toThrow(/unknown agent kind "nope" \(known: command, claude-code, opencode, codex, qwen-code, aider\)/);
    expect(() => { registerAgent("command", () => Promise.resolve(commandAgent)); }).toThrow(/already registered/);
  });
});
