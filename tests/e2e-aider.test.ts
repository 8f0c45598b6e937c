import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, Rig } from "./helpers/rig.js";

/** Aider cannot be installed here: these runs use a STAND-IN executable that accepts only Aider's documented options. */
const STANDIN = join(REPO, "tests", "fixtures", "aider-standin.mjs");

interface Agent { claims: string; sessionId?: string; costUsd?: number; turns?: number; tokens?: { input: number; cacheRead: number; output: number }; toolCalls?: { name: string; filePath?: string }[]; isError?: boolean; apiErrorStatus?: number }
interface Status { tasks: { status: string; reason?: string; attempts: { decision?: string; reasons: string[]; agent?: Agent }[] }[] }

describe("aider agent (stand-in executable)", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("ws/.keep", "");
  });
  afterEach(() => { rig.cleanup(); });

  const pipeline = (tasks: string, extra = ""): void => {
    rig.write("pipeline.yaml", `version: 1\nname: aider\nagent: { kind: aider, run: ${STANDIN}, model: sonnet }\n${extra}tasks:\n${tasks}`);
  };

  it("edits with --yes-always and no commits; usage, cost and the edit are recorded; a retry restores the chat", () => {
    pipeline(
      "  - { id: fix, prompt: 'Make good.txt. [[standin:fix-on-retry]]', gates: [good], max_attempts: 2 }\n",
      "gates:\n  good: { run: test -f good.txt }\n",
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(existsSync(rig.path("ws", "good.txt"))).toBe(true);
    // The chat history lives in orc's run directory, never in the workspace; no git repository was created.
    expect(existsSync(rig.path("ws", ".aider.chat.history.md"))).toBe(false);
    expect(existsSync(rig.path("ws", ".git"))).toBe(false);
    const [first, second] = rig.json<Status>(["status", "--json"]).tasks[0]?.attempts ?? [];
    expect(first?.agent).toMatchObject({ costUsd: 0.0042, turns: 1, tokens: { input: 2500, cacheRead: 1200, output: 130 }, toolCalls: [{ name: "edit", filePath: "bad.txt" }], isError: false });
    expect(second?.agent?.sessionId).toBe(first?.agent?.sessionId);
    expect(second?.decision).toBe("accept");
  });

  it("keeps its chat history in the sandbox, in the run's scratch directory: the prompt files stay read-only", () => {
    pipeline(
      "  - { id: fix, prompt: 'Make good.txt. [[standin:fix-on-retry]]', gates: [good], max_attempts: 2 }\n",
      "transport: { kind: sandbox }\ngates:\n  good: { run: test -f good.txt }\n",
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const status = rig.json<Status & { run: { id: string } }>(["status", "--json"]);
    const [first, second] = status.tasks[0]?.attempts ?? [];
    expect(second?.decision).toBe("accept");
    const runDir = join(rig.stateDir(), "runs", status.run.id);
    const history = first?.agent?.sessionId ?? "";
    expect(history).toBe(join(runDir, "scratch", "aider-fix.chat.md"));
    // Both attempts' messages: the retry restored and extended the one history, written from inside the sandbox.
    expect(readFileSync(history, "utf8").match(/^#### /gm)).toHaveLength(2);
    expect(readdirSync(join(runDir, "prompts")).filter((f) => f.startsWith("aider-"))).toEqual([]);
  });

  it("does not accept a run whose model API refused the key, though Aider exits 0", () => {
    pipeline("  - { id: auth, prompt: 'Anything. [[standin:auth-error]]', max_attempts: 3 }\n");
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).not.toBe(0);
    const task = rig.json<Status>(["status", "--json"]).tasks[0];
    expect(task?.status).toBe("failed");
    expect(task?.attempts).toHaveLength(1);
    expect(task?.attempts[0]?.agent).toMatchObject({ isError: true, apiErrorStatus: 401 });
    expect(task?.reason).toContain("AuthenticationError");
  });
});
