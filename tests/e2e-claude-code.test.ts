import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { FakeAnthropic } from "./helpers/fake-anthropic.js";
import { REPO, Rig } from "./helpers/rig.js";

/** The real Claude Code CLI (pinned dev dependency) against a FAKE Messages API on loopback, through `orc apply`. */
const BIN = join(REPO, "node_modules", ".bin");

interface ToolCall { name: string; filePath?: string; failed?: boolean }
interface Agent {
  end: string;
  exitCode: number | null;
  claims: string;
  sessionId?: string;
  costUsd?: number;
  turns?: number;
  messages?: string[];
  tokens?: { input: number; output: number; cacheRead: number; cacheWrite: number };
  toolCalls?: ToolCall[];
  permissionDenials?: ToolCall[];
  isError?: boolean;
  apiErrorStatus?: number;
  error?: string;
}
interface Attempt { attempt: number; status: string; decision?: string; reasons: string[]; agent?: Agent }
interface Status {
  run: { id: string; status: string; reason?: string };
  tasks: { id: string; status: string; reason?: string; attempts: Attempt[] }[];
}

describe("claude-code agent (real CLI, fake model API)", () => {
  const api = new FakeAnthropic();
  let rig: Rig;
  beforeAll(async () => { await api.start(); });
  afterAll(async () => { await api.stop(); });
  beforeEach(() => {
    rig = new Rig();
    rig.write("ws/.keep", "");
  });
  afterEach(() => { rig.cleanup(); });

  const env = (): Record<string, string> => ({ ...api.env(), HOME: rig.path("home"), PATH: `${BIN}:${process.env.PATH ?? ""}` });
  const pipeline = (agent: string, tasks: string, extra = ""): void => {
    rig.write("pipeline.yaml", `version: 1\nname: claude\nagent: { kind: claude-code, ${agent} }\n${extra}tasks:\n${tasks}`);
  };
  const status = (): Status => rig.json<Status>(["status", "--json"], { env: env() });
  /** `orc ARGS` in the background: the fake API lives in this process, so a blocking spawnSync would starve it. */
  const orc = async (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const running = rig.start(args, { env: env() });
    const code = await running.finished();
    return { code, stdout: running.stdout, stderr: running.stderr };
  };

  it("runs a task that writes a file; status --json shows cost, turns, session id and tool calls", async () => {
    pipeline("timeout: 60s, inactivity_timeout: 20s", "  - { id: notes, prompt: 'Write the notes. [[fake:write notes.txt]]' }\n");
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(rig.read("ws/notes.txt")).toBe("written by the fake model: notes.txt\n");
    expect(result.stdout).toMatch(/\[notes\] agent exited 0 after .* \(\$\d+\.\d{4}, 2 turns, 1 tool call, session [0-9a-f-]{36}\)/);

    const s = status();
    expect(s.run.status).toBe("succeeded");
    const agent = s.tasks[0]?.attempts[0]?.agent;
    expect(agent?.costUsd).toBeGreaterThan(0);
    expect(agent?.turns).toBe(2);
    expect(agent?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(agent?.toolCalls).toEqual([{ name: "Write", filePath: rig.path("ws", "notes.txt") }]);
    expect(agent?.tokens?.input).toBeGreaterThan(0);
    expect(agent?.isError).toBe(false);
    expect(agent?.claims).toContain("Done.");
    expect(agent?.messages).toEqual([agent?.claims]);
    expect(rig.orc(["status"], { env: env() }).stdout).toMatch(/notes +accepted +1\/3 attempts {2}\$0\.\d{4}, \d+ tokens/);
    // The session the API saw is the one orc recorded.
    expect(api.for("write").map((r) => r.sessionId)).toContain(agent?.sessionId);
  });

  it("keeps a multi-turn session: one Write per turn, all in one attempt", async () => {
    pipeline("timeout: 60s", "  - { id: many, prompt: 'Three files. [[fake:multi a.txt b.txt c.txt]]' }\n");
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).toBe(0);
    for (const f of ["a.txt", "b.txt", "c.txt"]) expect(existsSync(rig.path("ws", f))).toBe(true);
    const agent = status().tasks[0]?.attempts[0]?.agent;
    expect(agent?.turns).toBe(4);
    expect(agent?.toolCalls?.map((c) => c.filePath)).toEqual(["a.txt", "b.txt", "c.txt"].map((f) => rig.path("ws", f)));
    const sessions = new Set(api.for("multi").map((r) => r.sessionId));
    expect(sessions.size).toBe(1);
  });

  it("resumes the same session on retry (--resume), with the follow-up prompt", async () => {
    pipeline(
      "timeout: 60s",
      "  - { id: fix, prompt: 'Make good.txt. [[fake:fix-on-retry]]', gates: [good], max_attempts: 2 }\n",
      "gates:\n  good: { run: test -f good.txt }\n",
    );
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.stdout).toContain("[fix] attempt 1: retry");
    expect(result.code).toBe(0);
    expect(existsSync(rig.path("ws", "good.txt"))).toBe(true);
    const attempts = status().tasks[0]?.attempts ?? [];
    expect(attempts.map((a) => a.decision)).toEqual(["retry", "accept"]);
    const [first, second] = attempts;
    expect(second?.agent?.sessionId).toBe(first?.agent?.sessionId);
    // The API saw the second attempt in the same session, its history holding the first attempt's turns.
    const seen = api.for("fix-on-retry").filter((r) => r.sessionId === first?.agent?.sessionId);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...seen.map((r) => r.messages))).toBeGreaterThan(3);
  });

  it("starts a new session on each attempt with `session: fresh`", async () => {
    pipeline(
      "timeout: 60s, session: fresh",
      "  - { id: anew, prompt: 'Make good.txt. [[fake:fix-on-retry]]', gates: [good], max_attempts: 2 }\n",
      "gates:\n  good: { run: test -f good.txt }\n",
    );
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    // A fresh session never sees the first prompt again, so the scripted model never learns the fix.
    expect(result.code).not.toBe(0);
    const [first, second] = status().tasks[0]?.attempts ?? [];
    expect(first?.agent?.sessionId).toBeDefined();
    expect(second?.agent?.sessionId).toBeDefined();
    expect(second?.agent?.sessionId).not.toBe(first?.agent?.sessionId);
  });

  it("does not accept a run whose write was denied, though the CLI exits 0 with subtype success", async () => {
    pipeline("timeout: 60s", "  - { id: denied, prompt: 'Write outside. [[fake:outside]]', max_attempts: 1 }\n");
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).not.toBe(0);
    const s = status();
    expect(s.tasks[0]?.status).toBe("failed");
    const attempt = s.tasks[0]?.attempts[0];
    expect(attempt?.agent?.exitCode).toBe(0);
    expect(attempt?.agent?.permissionDenials?.[0]).toMatchObject({ name: "Write", filePath: `/tmp/orc-fake-outside-${process.pid}/outside.txt` });
    expect(attempt?.reasons.join(" ")).toContain("agent was denied permission once (Write /tmp/orc-fake-outside-");
    expect(existsSync(`/tmp/orc-fake-outside-${process.pid}/outside.txt`)).toBe(false);
  });

  it("fails on a 401 at once (no retry can fix credentials) and records the API status", async () => {
    pipeline("timeout: 60s", "  - { id: auth, prompt: 'Anything. [[fake:status 401]]', max_attempts: 3 }\n");
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).not.toBe(0);
    const task = status().tasks[0];
    expect(task?.status).toBe("failed");
    expect(task?.attempts).toHaveLength(1);
    expect(task?.attempts[0]?.agent).toMatchObject({ isError: true, apiErrorStatus: 401 });
    expect(task?.reason).toContain("refused the credentials (HTTP 401)");
  });

  it("waits out a usage limit (429 with its reset time), then continues the same session and succeeds", async () => {
    pipeline("timeout: 60s, limits: { wait: 1s, max_wait: 30s }", "  - { id: limited, prompt: 'Write it. [[fake:limit-once limited.txt]]', max_attempts: 1 }\n");
    const started = Date.now();
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(existsSync(rig.path("ws", "limited.txt"))).toBe(true);
    const events = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; until?: string; limit?: { kind: string; resetAt?: string }; time: string });
    const waiting = events.find((e) => e.type === "agent.waiting");
    expect(waiting?.limit?.kind).toBe("usage");
    expect(waiting?.until).toBe(waiting?.limit?.resetAt);
    // It waited until the reset the API named (at most 2-3 s ahead), not longer.
    const finished = events.find((e) => e.type === "agent.finished");
    expect(Date.parse(finished?.time ?? "")).toBeGreaterThanOrEqual(Date.parse(waiting?.until ?? ""));
    expect(Date.now() - started).toBeLessThan(20_000);
    const sessions = api.for("limit-once").map((r) => r.sessionId);
    expect(sessions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(sessions).size).toBe(1);
    const attempts = status().tasks[0]?.attempts ?? [];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.decision).toBe("accept");
  });

  it("keeps waiting after `orc resume` when interrupted during a limit wait, instead of calling the API early", async () => {
    pipeline("timeout: 60s, limits: { wait: 1s, max_wait: 60s }", "  - { id: patient, prompt: 'Write it. [[fake:limit-once patient.txt 3]]', max_attempts: 1 }\n");
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"], { env: env() });
    await running.waitFor("[patient] usage limit: waiting");
    running.child.kill("SIGINT");
    expect(await running.finished()).toBe(130);
    const paused = status();
    expect(paused.run.status).toBe("paused");

    const resumed = await orc(["resume", paused.run.id, "--json"]);
    expect(resumed.code).toBe(0);
    const waits = resumed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; until?: string }).filter((e) => e.type === "agent.waiting");
    expect(waits).toHaveLength(1);
    const until = Date.parse(waits[0]?.until ?? "");
    // The only calls: the limited one before the interruption, then one after the reset time (not before).
    const calls = api.for("limit-once").filter((r) => r.args[0] === "patient.txt");
    expect(calls[0]?.at).toBeLessThan(until);
    expect(calls.slice(1).every((r) => r.at >= until)).toBe(true);
    expect(calls[1]?.sessionId).toBe(calls[0]?.sessionId);
    expect(existsSync(rig.path("ws", "patient.txt"))).toBe(true);
  });

  it("stops at a breakpoint when a limit lifts later than max_wait", async () => {
    pipeline("timeout: 60s, limits: { wait: 1s, max_wait: 10s }", "  - { id: capped, prompt: 'Anything. [[fake:limit-far]]' }\n");
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.stdout).toContain("rule agent-limit-beyond-max-wait (builtin) → pause: the agent hit a usage limit");
    const s = status();
    expect(s.run.status).toBe("paused");
    expect(s.tasks[0]?.status).toBe("paused");
    // Called once: orc did not hammer the API while the limit holds.
    expect(api.for("limit-far")).toHaveLength(1);
  });

  it("ends a task as budget-exhausted when its spending reaches the budget before the next attempt", async () => {
    pipeline(
      "timeout: 60s",
      "  - { id: pricey, prompt: 'Make good.txt. [[fake:fix-on-retry]]', gates: [good], max_attempts: 3, budget: { usd: 0.000001 } }\n",
      "gates:\n  good: { run: test -f never.txt }\n",
    );
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).not.toBe(0);
    const task = status().tasks[0];
    expect(task?.status).toBe("failed");
    expect(task?.attempts).toHaveLength(1);
    expect(task?.reason).toMatch(/^budget-exhausted: task pricey budget used up \(cost \$0\.\d{4} of \$0\.000001\)$/);
  });

  it("runs in the default sandbox beside the user's own ~/.claude and ~/.claude.json, which it reads and never writes", async () => {
    rig.write("home/.claude/settings.json", "{}\n");
    rig.write("home/.claude.json", "{}\n");
    pipeline("timeout: 60s, inactivity_timeout: 20s", "  - { id: notes, prompt: 'Write the notes. [[fake:write notes.txt]]' }\n");
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(rig.read("ws/notes.txt")).toBe("written by the fake model: notes.txt\n");
    expect(rig.json<{ transport: { kind: string } }>(["status", "--json"], { env: env() }).transport.kind).toBe("sandbox");
    expect(readdirSync(rig.path("home", ".claude"))).toEqual(["settings.json"]);
    expect(rig.read("home/.claude.json")).toBe("{}\n");
  });

  it("kills a stalled stream with the inactivity watchdog within its timeout", async () => {
    pipeline("timeout: 60s, inactivity_timeout: 1500ms", "  - { id: stalls, prompt: 'Hang. [[fake:stall]]', max_attempts: 1 }\n");
    const started = Date.now();
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    const elapsed = Date.now() - started;
    expect(result.code).not.toBe(0);
    const attempt = status().tasks[0]?.attempts[0];
    expect(attempt?.agent?.end).toBe("stalled");
    expect(attempt?.reasons.join(" ")).toContain("no output for 1.5s (inactivity timeout)");
    // 1.5 s of silence after the init line, the kill grace, orc's own start-up: well under the 60 s timeout.
    expect(elapsed).toBeLessThan(15_000);
  });

  it("SIGINT mid-attempt exits 130 and `orc resume` continues the recorded session", async () => {
    // In the default sandbox, with the user's settings bound in: `.claude/` stays writable for the session files, and
    // the agent gets its grace to write them before it is killed (bwrap itself would die at once on SIGTERM).
    rig.write("home/.claude/settings.json", "{}\n");
    pipeline("timeout: 60s, inactivity_timeout: 60s", "  - { id: slow, prompt: 'Slowly. [[fake:stall-once slow.txt]]' }\n");
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"], { env: env() });
    await running.waitFor("[slow] attempt 1/3 started");
    const deadline = Date.now() + 20_000;
    while (api.for("stall-once").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    running.child.kill("SIGINT");
    expect(await running.finished()).toBe(130);
    const paused = status();
    expect(paused.run.status).toBe("paused");
    const firstSession = api.for("stall-once")[0]?.sessionId;

    const resumed = await orc(["resume", paused.run.id]);
    expect(resumed.code).toBe(0);
    expect(existsSync(rig.path("ws", "slow.txt"))).toBe(true);
    const attempts = status().tasks[0]?.attempts ?? [];
    expect(attempts.map((a) => a.status)).toEqual(["interrupted", "decided"]);
    expect(attempts[1]?.agent?.sessionId).toBe(firstSession);
  });
});
