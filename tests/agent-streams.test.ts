import { describe, expect, it } from "vitest";
import { codexArgs, CodexStream, codexOutcome } from "../src/agents/codex.js";
import { JsonLines } from "../src/agents/json-lines.js";
import { classifyLimit, parseResetTime } from "../src/agents/limits.js";
import type { AgentRunInput } from "../src/agents/port.js";
import { qwenArgs } from "../src/agents/qwen-code.js";
import { claudeArgs } from "../src/agents/claude-code.js";
import { readAiderOutput } from "../src/agents/aider.js";
import type { AgentSpec } from "../src/core/pipeline.js";
import type { Transport } from "../src/transports/port.js";

/** These tests read agents' arguments and output; none starts a process. */
const unusedTransport: Transport = { kind: "unused", run: () => Promise.reject(new Error("these tests start no process")) };
const spec: AgentSpec = { kind: "codex", timeoutMs: 0, inactivityTimeoutMs: 0, env: {}, options: {} };
const input = (extra: Partial<AgentRunInput> = {}, s: Partial<AgentSpec> = {}): AgentRunInput => ({
  spec: { ...spec, ...s },
  prompt: "-starts with a dash",
  promptFile: "/state/runs/r/prompts/t.1.md",
  scratchDir: "/state/runs/r/scratch",
  workspace: "/ws",
  runId: "r",
  taskId: "t",
  attempt: 1,
  env: {},
  transport: unusedTransport,
  signal: new AbortController().signal,
  ...extra,
});
const base = { exitCode: 0, signal: null, end: "exited" as const, durationMs: 1, outputTail: "", claims: "" };

describe("agent output readers", () => {
  it("splits JSON lines across chunks and skips what is not a JSON object", () => {
    const seen: unknown[] = [];
    const lines = new JsonLines((r) => seen.push(r));
    lines.push('{"a":1}\n{"b"');
    lines.push(':2}\nwarning: not json\n[1]\n{"c":3}');
    lines.end();
    expect(seen).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    expect(lines.ignored).toBe(2);
  });

  it("reads reset times in the forms the CLIs print", () => {
    const now = new Date("2026-11-24T10:00:00Z");
    expect(parseResetTime("Claude AI usage limit reached|1795500000", now)?.toISOString()).toBe(new Date(1795500000 * 1000).toISOString());
    expect(parseResetTime("limit; resets at 2026-11-24T12:30:00Z", now)?.toISOString()).toBe("2026-11-24T12:30:00.000Z");
    expect(parseResetTime("Rate limit reached. Please try again in 20s.", now)?.toISOString()).toBe("2026-11-24T10:00:20.000Z");
    expect(parseResetTime("try again in 5 minutes", now)?.toISOString()).toBe("2026-11-24T10:05:00.000Z");
    expect(parseResetTime("nothing here", now)).toBeUndefined();
  });

  it("classifies 429, overload and usage limits, and nothing else", () => {
    expect(classifyLimit({ status: 429, message: "API Error: Request rejected (429)" })?.kind).toBe("rate");
    expect(classifyLimit({ status: 529, message: "API Error: 529 Overloaded" })?.kind).toBe("overloaded");
    expect(classifyLimit({ message: "You've hit your limit · resets 3pm" })?.kind).toBe("usage");
    expect(classifyLimit({ status: 401, message: "Invalid API key" })).toBeUndefined();
  });

  it("builds command lines whose prompt cannot be taken for an option", () => {
    expect(claudeArgs(input({ previousSessionId: "s1" }, { allowedTools: ["Read", "Edit"], maxTurns: 5 }))).toEqual([
      "-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits",
      "--allowedTools", "Read", "Edit", "--max-turns", "5", "--resume", "s1", "--", "-starts with a dash",
    ]);
    expect(codexArgs(input({ previousSessionId: "th_1" }, { model: "gpt-5" }))).toEqual([
      "exec", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write", "--model", "gpt-5", "resume", "th_1", "--", "-starts with a dash",
    ]);
    expect(qwenArgs(input({}, { permissionMode: "bypassPermissions" }))).toEqual([
      "--output-format", "stream-json", "--approval-mode", "yolo", "--prompt=-starts with a dash",
    ]);
  });

  it("reads Codex's documented exec events", () => {
    const stream = new CodexStream();
    const events = [
      { type: "thread.started", thread_id: "th_abc" },
      { type: "turn.started" },
      { type: "item.completed", item: { id: "i1", type: "command_execution", command: "npm test", exit_code: 1, status: "failed" } },
      { type: "item.completed", item: { id: "i2", type: "file_change", changes: [{ path: "src/a.ts", kind: "update" }, { path: "src/b.ts", kind: "add" }] } },
      { type: "item.completed", item: { id: "i3", type: "agent_message", text: "Fixed it." } },
      { type: "turn.completed", usage: { input_tokens: 100, cached_input_tokens: 40, output_tokens: 7 } },
    ];
    for (const e of events) stream.record(e);
    expect(codexOutcome(stream, base)).toMatchObject({
      sessionId: "th_abc",
      claims: "Fixed it.",
      turns: 1,
      tokens: { input: 100, cacheRead: 40, output: 7, cacheWrite: 0 },
      toolCalls: [{ name: "command", command: "npm test", failed: true }, { name: "file_change:update", filePath: "src/a.ts" }, { name: "file_change:add", filePath: "src/b.ts" }],
      isError: false,
    });
    stream.record({ type: "turn.failed", error: { message: "stream error: 429 Too Many Requests; try again in 30s" } });
    const failed = codexOutcome(stream, base);
    expect(failed).toMatchObject({ isError: true, apiErrorStatus: 429, limit: { kind: "rate" } });
  });

  it("reads Aider's edit, token and error lines", () => {
    expect(readAiderOutput("Applied edit to src/x.py\nTokens: 12k sent, 2.1k cache write, 340 received. Cost: $0.05 message, $0.10 session.\n")).toEqual({
      toolCalls: [{ name: "edit", filePath: "src/x.py" }],
      tokens: { input: 12000, output: 340, cacheRead: 0, cacheWrite: 2100 },
      turns: 1,
      costUsd: 0.05,
    });
    expect(readAiderOutput("litellm.RateLimitError: AnthropicException - rate limit").error).toBe("RateLimitError: AnthropicException - rate limit");
  });
});
