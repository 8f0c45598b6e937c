import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPipeline } from "../src/config/index.js";
import { Project } from "./config-project.js";

describe("config: coding-agent settings and budgets", () => {
  let project: Project;
  beforeEach(() => { project = new Project(); });
  afterEach(() => { project.cleanup(); });

  it("normalises the settings: paths absolute, durations in ms, inherited by tasks, reset when a task switches kind", async () => {
    project.write("mcp.json", "{}");
    project.write(
      "p.yaml",
      `version: 1
agent: { kind: claude-code, model: m1, permission_mode: plan, allowed_tools: [Read], add_dirs: [lib], mcp_config: mcp.json, limits: { wait: 30s } }
budget: { usd: 5, wall_time: 2h }
tasks:
  - { id: a, prompt: x, budget: { tokens: 1000 }, agent: { max_turns: 3, session: fresh, limits: { max_wait: 1h } } }
  - { id: b, prompt: x, agent: { kind: opencode, model: fake/m } }
`,
    );
    const loaded = await loadPipeline(project.path("p.yaml"), project.settings());
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.failure));
    const p = loaded.value;
    expect(p.budget).toEqual({ usd: 5, wallTimeMs: 7_200_000 });
    const [a, b] = p.tasks;
    expect(a?.budget).toEqual({ tokens: 1000 });
    expect(a?.agent).toMatchObject({
      kind: "claude-code",
      model: "m1",
      permissionMode: "plan",
      allowedTools: ["Read"],
      addDirs: [project.path("lib")],
      mcpConfig: project.path("mcp.json"),
      maxTurns: 3,
      session: "fresh",
      limits: { waitMs: 30_000, maxWaitMs: 3_600_000 },
    });
    expect(b?.agent).toMatchObject({ kind: "opencode", model: "fake/m", limits: { waitMs: 30_000 } });
    expect(b?.agent.permissionMode).toBeUndefined();
    expect(b?.agent.allowedTools).toBeUndefined();
  });

  it("points at settings of the wrong shape", async () => {
    const text = await project.check(
      "p.yaml",
      "version: 1\nagent: { kind: claude-code, permission_mode: yolo }\nbudget: { usd: -1 }\ntasks:\n  - { id: a, prompt: x, budget: { tokens: 1.5 } }\n",
    );
    expect(text).toContain('p.yaml:2:46: error: agent.permission_mode must be one of: acceptEdits, default, plan, bypassPermissions, dontAsk (found "yolo")');
    expect(text).toContain("p.yaml:3:16: error: budget.usd must be more than 0 (found -1)");
    expect(text).toContain('p.yaml:5:43: error: task "a": budget.tokens must be an integer, found a number (1.5)');
  });
});
