import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FakeOpenAI } from "./helpers/fake-openai.js";
import { REPO, Rig } from "./helpers/rig.js";

/** The real OpenCode CLI (pinned dev dependency) against a FAKE OpenAI-compatible API on loopback, through `orc apply`. */
const BIN = join(REPO, "node_modules", ".bin");

interface Agent {
  claims: string;
  sessionId?: string;
  turns?: number;
  costUsd?: number;
  tokens?: { input: number; output: number };
  toolCalls?: { name: string; filePath?: string }[];
  isError?: boolean;
  apiErrorStatus?: number;
}
interface Status {
  run: { id: string; status: string };
  tasks: { id: string; status: string; reason?: string; attempts: { decision?: string; reasons: string[]; agent?: Agent }[] }[];
}

describe("opencode agent (real CLI, fake OpenAI-style API)", () => {
  const api = new FakeOpenAI();
  let rig: Rig;
  beforeAll(async () => { await api.start(); });
  afterAll(async () => { await api.stop(); });
  beforeEach(() => {
    rig = new Rig();
    rig.write("ws/.keep", "");
  });
  afterEach(() => { rig.cleanup(); });

  const env = (): Record<string, string> => ({
    HOME: rig.path("home"),
    XDG_DATA_HOME: rig.path("home", ".local", "share"),
    PATH: `${BIN}:${process.env.PATH ?? ""}`,
    OPENCODE_CONFIG_CONTENT: api.opencodeConfig(),
  });
  const orc = async (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const running = rig.start(args, { env: env() });
    const code = await running.finished();
    return { code, stdout: running.stdout, stderr: running.stderr };
  };
  const status = (): Status => rig.json<Status>(["status", "--json"], { env: env() });

  it("writes a file and is accepted; a retry continues the same session (--session)", async () => {
    rig.write(
      "pipeline.yaml",
      `version: 1
name: oc
agent: { kind: opencode, model: fake/fake-model, timeout: 90s, inactivity_timeout: 30s }
gates:
  good: { run: test -f good.txt }
tasks:
  - { id: fix, prompt: 'Make good.txt. [[fake:fix-on-retry]]', gates: [good], max_attempts: 2 }
`,
    );
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("[fix] attempt 1: retry");
    expect(result.code).toBe(0);
    expect(rig.read("ws/good.txt")).toBe("written by the fake model: good.txt\n");
    const [first, second] = status().tasks[0]?.attempts ?? [];
    expect(first?.agent?.toolCalls).toEqual([{ name: "write", filePath: "bad.txt" }]);
    expect(first?.agent?.sessionId).toMatch(/^ses_/);
    expect(second?.agent?.sessionId).toBe(first?.agent?.sessionId);
    expect(second?.agent?.turns).toBe(2);
    expect(second?.agent?.tokens?.input).toBeGreaterThan(0);
    expect(second?.agent?.claims).toBe("Done. I wrote the file.");
    expect(second?.decision).toBe("accept");
    // The continued session's request carried the first attempt's conversation.
    expect(Math.max(...api.for("fix-on-retry").map((r) => r.messages))).toBeGreaterThan(4);
  });

  it("fails at once on a 401 from the model API, with the status recorded", async () => {
    rig.write(
      "pipeline.yaml",
      `version: 1
name: oc
agent: { kind: opencode, model: fake/fake-model, timeout: 90s, inactivity_timeout: 30s }
tasks:
  - { id: auth, prompt: 'Anything. [[fake:status 401]]' }
`,
    );
    const result = await orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).not.toBe(0);
    const task = status().tasks[0];
    expect(task?.status).toBe("failed");
    expect(task?.attempts).toHaveLength(1);
    expect(task?.attempts[0]?.agent).toMatchObject({ isError: true, apiErrorStatus: 401 });
    expect(existsSync(rig.path("ws", "out.txt"))).toBe(false);
  });
});
