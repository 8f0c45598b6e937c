import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPipeline } from "../src/config/index.js";
import { Project } from "./config-project.js";

describe("config: a task's own transport", () => {
  let project: Project;
  beforeEach(() => {
    project = new Project();
  });
  afterEach(() => {
    project.cleanup();
  });

  it("is absent unless the task sets one (the pipeline's applies), and replaces the pipeline's whole", async () => {
    project.write(
      "p.yaml",
      `transport: {kind: sandbox, network: off, env: [KEY]}
agent: {run: go}
tasks:
  - { id: inherits, prompt: x }
  - { id: own, prompt: x, transport: sandbox }
  - { id: out, prompt: x, transport: local }
`,
    );
    const result = await loadPipeline(project.path("p.yaml"), project.settings());
    if (!result.ok) throw new Error(JSON.stringify(result.failure));
    expect(result.value.transport).toEqual({ kind: "sandbox", network: false, home: [], env: ["KEY"] });
    expect(result.value.tasks.map((t) => [t.id, t.transport])).toEqual([
      ["inherits", undefined],
      ["own", { kind: "sandbox", network: true, home: [], env: [] }],
      ["out", { kind: "local" }],
    ]);
  });

  it("is checked like the pipeline's, each problem where it was written", async () => {
    project.write("p.yaml", "agent: {run: go}\ntasks:\n  - id: a\n    prompt: x\n    transport:\n      kind: sandbox\n      home: [/etc]\n");
    project.write("q.yaml", "agent: {run: go}\ntasks:\n  - { id: b, prompt: x, transport: {kind: sandbox, nework: off} }\n");
    const { text } = await project.diagnostics("p.yaml", "q.yaml");
    expect(text).toContain('p.yaml:7:14: error: home path "/etc" must name something inside your home');
    expect(text).toContain('q.yaml:3:52: error: task "b": unknown key "nework" in transport (did you mean "network"?)');
  });
});
