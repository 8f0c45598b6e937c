import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Project } from "./config-project.js";

/** One test per diagnostic kind: the exact text `orc validate` prints, and the stable code. */
describe("config diagnostics", () => {
  let project: Project;
  beforeEach(() => {
    project = new Project();
  });
  afterEach(() => {
    project.cleanup();
  });

  async function expectOnly(file: string, text: string, code: string, expected: string): Promise<void> {
    project.write(file, text);
    const { diagnostics, text: printed } = await project.diagnostics(file);
    expect(printed).toBe(expected);
    expect(diagnostics.map((d) => d.code)).toEqual([code]);
  }

  const head = `version: 1\nagent: { kind: command, run: ./agent.sh }\n`;

  it("unknown-need: a need names no task, with a did-you-mean", async () => {
    await expectOnly(
      "pipelines/feature.yaml",
      [
        "# yaml-language-server: $schema=../schemas/pipeline.schema.json",
        "version: 1",
        "name: feature",
        "agent: { kind: command, run: ./agent.sh }",
        "gates:",
        "  tests: { run: npm test, timeout: 10m }",
        "tasks:",
        " - id: design",
        "   prompt: Write docs/rate-limit.md",
        "   gates: [tests]",
        " - id: implement",
        "   prompt: |",
        "     Implement docs/rate-limit.md.",
        "   needs: [desing]",
        "",
      ].join("\n"),
      "unknown-need",
      [
        'pipelines/feature.yaml:14:12: error: task "implement" needs unknown task "desing" (did you mean "design"?)',
        "   14 |    needs: [desing]",
        "      |            ^^^^^^",
      ].join("\n"),
    );
  });

  it("cycle: names every task on the cycle, in order", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks:\n  - { id: a, prompt: x, needs: [c] }\n  - { id: b, prompt: x, needs: a }\n  - { id: c, prompt: x, needs: [b] }\n  - { id: d, prompt: x, needs: [a] }\n`,
      "cycle",
      [
        "p.yaml:4:33: error: dependency cycle: a -> c -> b -> a",
        "   4 |   - { id: a, prompt: x, needs: [c] }",
        "     |                                 ^",
      ].join("\n"),
    );
  });

  it("self-need: a task needs itself", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks:\n  - id: a\n    prompt: x\n    needs: a\n`,
      "self-need",
      ['p.yaml:6:12: error: task "a" needs itself', "   6 |     needs: a", "     |            ^"].join("\n"),
    );
  });

  it("duplicate-task: points at the second id", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks:\n  - id: build\n    prompt: x\n  - id: build\n    prompt: y\n`,
      "duplicate-task",
      ['p.yaml:6:9: error: duplicate task id "build" (first defined on line 4)', "   6 |   - id: build", "     |         ^^^^^"].join("\n"),
    );
  });

  it("unknown-gate: in a task and in defaults", async () => {
    project.write(
      "p.yaml",
      `${head}defaults: { gates: [lint] }\ngates:\n  tests: "npm test"\ntasks:\n  - id: a\n    prompt: x\n    gates: tets\n`,
    );
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'p.yaml:3:21: error: defaults use unknown gate "lint"',
        "   3 | defaults: { gates: [lint] }",
        "     |                     ^^^^",
        'p.yaml:9:12: error: task "a" uses unknown gate "tets" (did you mean "tests"?)',
        "   9 |     gates: tets",
        "     |            ^^^^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["unknown-gate", "unknown-gate"]);
  });

  it("unknown-gate: in a task's merge_gates and in defaults' merge_gates", async () => {
    project.write(
      "p.yaml",
      `${head}defaults: { merge_gates: [lint] }\ngates:\n  tests: "npm test"\ntasks:\n  - id: a\n    prompt: x\n    merge_gates: [tets]\n`,
    );
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'p.yaml:3:27: error: defaults merge with unknown gate "lint"',
        "   3 | defaults: { merge_gates: [lint] }",
        "     |                           ^^^^",
        'p.yaml:9:19: error: task "a" merges with unknown gate "tets" (did you mean "tests"?)',
        "   9 |     merge_gates: [tets]",
        "     |                   ^^^^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["unknown-gate", "unknown-gate"]);
  });

  it("missing-template: a task template file that does not exist", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks:\n  - id: a\n    template: templates/a.liquid\n`,
      "missing-template",
      [
        'p.yaml:5:15: error: task "a": template file "templates/a.liquid" not found',
        "   5 |     template: templates/a.liquid",
        "     |               ^^^^^^^^^^^^^^^^^^",
      ].join("\n"),
    );
  });

  it("unknown-agent-kind: with a did-you-mean, or the kinds this build supports", async () => {
    project.write("p.yaml", `version: 1\nagent: comand\ntasks:\n  - id: a\n    prompt: x\n    agent: { kind: cursor-agent }\n`);
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'p.yaml:2:8: error: unknown agent kind "comand" (did you mean "command"?)',
        "   2 | agent: comand",
        "     |        ^^^^^^",
        'p.yaml:6:20: error: task "a": unknown agent kind "cursor-agent"; this build supports: command, claude-code, codex, qwen-code, opencode, aider',
        "   6 |     agent: { kind: cursor-agent }",
        "     |                    ^^^^^^^^^^^^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["unknown-agent-kind", "unknown-agent-kind"]);
  });

  it("bad-duration: a timeout that is not a duration", async () => {
    await expectOnly(
      "p.yaml",
      `${head}gates:\n  tests: { run: npm test, timeout: 10 minutes }\ntasks:\n  - { id: a, prompt: x, gates: [tests] }\n`,
      "bad-duration",
      [
        'p.yaml:4:36: error: gate "tests": timeout "10 minutes" is not a duration (write e.g. 90s, 10m, 1h30m, 500ms, or a number of seconds)',
        "   4 |   tests: { run: npm test, timeout: 10 minutes }",
        "     |                                    ^^^^^^^^^^",
      ].join("\n"),
    );
  });

  it("prompt-or-template: both, and neither", async () => {
    project.write("p.yaml", `${head}tasks:\n  - id: a\n    prompt: x\n    template: a.liquid\n  - id: b\n    needs: [a]\n`);
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'p.yaml:6:5: error: task "a" has both prompt and template: give only one',
        "   6 |     template: a.liquid",
        "     |     ^^^^^^^^",
        'p.yaml:7:9: error: task "b" has neither prompt nor template: give one',
        "   7 |   - id: b",
        "     |         ^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["prompt-or-template", "prompt-or-template"]);
  });

  it("missing-run: a command agent without a command line", async () => {
    project.write("p.yaml", `version: 1\ntasks:\n  - id: a\n    prompt: x\n  - id: b\n    prompt: y\n    agent: { timeout: 5m }\n`);
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'p.yaml:1:1: error: agent kind "command" needs "run" (the command line that starts the agent); set agent.run in the pipeline or in orchestrator.yaml',
        "   1 | version: 1",
        "     | ^^^^^^^^^^",
        'p.yaml:7:12: error: task "b": agent kind "command" needs "run" (the command line that starts the agent)',
        "   7 |     agent: { timeout: 5m }",
        "     |            ^^^^^^^^^^^^^^^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["missing-run", "missing-run"]);
  });

  it("missing-template: a judge gate's rubric file must exist", async () => {
    await expectOnly(
      "p.yaml",
      `${head}gates:\n  review:\n    judge: { rubric: templates/review.liquid, threshold: 0.7 }\ntasks:\n  - { id: a, prompt: x, gates: [review] }\n`,
      "missing-template",
      [
        'p.yaml:5:22: error: gate "review": rubric file "templates/review.liquid" not found',
        "   5 |     judge: { rubric: templates/review.liquid, threshold: 0.7 }",
        "     |                      ^^^^^^^^^^^^^^^^^^^^^^^",
      ].join("\n"),
    );
  });

  it("unsupported-version", async () => {
    await expectOnly(
      "p.yaml",
      `version: 2\nagent: { kind: command, run: x }\ntasks: [{ id: a, prompt: x }]\n`,
      "unsupported-version",
      ["p.yaml:1:10: error: unsupported version 2: this orc reads version 1", "   1 | version: 2", "     |          ^"].join("\n"),
    );
  });

  it("out-of-range: max_attempts and concurrency below 1", async () => {
    project.write("p.yaml", `${head}concurrency: 0\ntasks:\n  - { id: a, prompt: x, max_attempts: 0 }\n`);
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        "p.yaml:3:14: error: concurrency must be at least 1 (found 0)",
        "   3 | concurrency: 0",
        "     |              ^",
        'p.yaml:5:39: error: task "a": max_attempts must be at least 1 (found 0)',
        "   5 |   - { id: a, prompt: x, max_attempts: 0 }",
        "     |                                       ^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["out-of-range", "out-of-range"]);
  });

  it("unknown-key: points at the key, with a did-you-mean among the allowed keys", async () => {
    project.write("p.yaml", `${head}tasks:\n  - id: a\n    prompt: x\n    nedds: [b]\n    colour: red\n`);
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'p.yaml:6:5: error: task "a": unknown key "nedds" (did you mean "needs"?)',
        "   6 |     nedds: [b]",
        "     |     ^^^^^",
        'p.yaml:7:5: error: task "a": unknown key "colour"; expected one of: id, prompt, template, needs, gates, merge_gates, max_attempts, priority, protect, protect_defaults, hidden, baseline, agent, budget, transport',
        "   7 |     colour: red",
        "     |     ^^^^^^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["unknown-key", "unknown-key"]);
  });

  it("wrong-type: a scalar where a list or mapping belongs", async () => {
    project.write("p.yaml", `${head}tasks:\n  - id: a\n    prompt: x\n    needs: { b: 1 }\n    max_attempts: three\n`);
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'p.yaml:6:12: error: task "a": needs must be a string or a list, found a mapping',
        "   6 |     needs: { b: 1 }",
        "     |            ^^^^^^^^",
        'p.yaml:7:19: error: task "a": max_attempts must be an integer, found a string ("three")',
        "   7 |     max_attempts: three",
        "     |                   ^^^^^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["wrong-type", "wrong-type"]);
  });

  it("invalid-value: an enum lists the schema's own values", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks: [{ id: a, prompt: x }]\nbreakpoints:\n  - { id: big, when: "changes.lines_changed > 800", action: paus }\n`,
      "invalid-value",
      [
        'p.yaml:5:61: error: breakpoint "big": action must be one of: pause, reject, fail, warn (found "paus"; did you mean "pause"?)',
        '   5 |   - { id: big, when: "changes.lines_changed > 800", action: paus }',
        "     |                                                             ^^^^",
      ].join("\n"),
    );
  });

  it("missing-key: a task without an id", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks:\n  - prompt: x\n`,
      "missing-key",
      ['p.yaml:4:5: error: task #1: missing required key "id"', "   4 |   - prompt: x", "     |     ^^^^^^^^^"].join("\n"),
    );
  });

  it("gate-shape: a gate with neither run nor judge", async () => {
    await expectOnly(
      "p.yaml",
      `${head}gates:\n  tests: { timeout: 5m }\ntasks: [{ id: a, prompt: x, gates: [tests] }]\n`,
      "gate-shape",
      ['p.yaml:4:10: error: gate "tests" needs run (a command line) or judge', "   4 |   tests: { timeout: 5m }", "     |          ^^^^^^^^^^^^^^^"].join(
        "\n",
      ),
    );
  });

  it("missing-pack: a local rule pack that does not exist", async () => {
    await expectOnly(
      "p.yaml",
      `${head}uses: [./rules/strict.yaml, orc:safety]\ntasks: [{ id: a, prompt: x }]\n`,
      "missing-pack",
      ['p.yaml:3:8: error: rule pack "./rules/strict.yaml" not found', "   3 | uses: [./rules/strict.yaml, orc:safety]", "     |        ^^^^^^^^^^^^^^^^^^^"].join(
        "\n",
      ),
    );
  });

  it("duplicate-rule: a rule pack used by a pipeline is checked too", async () => {
    project.write("rules/strict.yaml", `name: strict\nversion: "1.0.0"\nrules:\n  - { id: no-skip, when: "true", action: fail }\n  - { id: no-skip, when: "false", action: warn }\n`);
    project.write("p.yaml", `${head}uses: ./rules/strict.yaml\ntasks: [{ id: a, prompt: x }]\n`);
    const { diagnostics, text } = await project.diagnostics("p.yaml");
    expect(text).toBe(
      [
        'rules/strict.yaml:5:11: error: duplicate rule id "no-skip" (first defined on line 4)',
        '   5 |   - { id: no-skip, when: "false", action: warn }',
        "     |           ^^^^^^^",
      ].join("\n"),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(["duplicate-rule"]);
  });

  it("yaml-syntax: the parser's message at the parser's position", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks:\n  - id: a\n    prompt: "unterminated\n`,
      "yaml-syntax",
      ['p.yaml:5:26: error: missing closing "quote', '   5 |     prompt: "unterminated', "     |                          ^"].join("\n"),
    );
  });

  it("duplicate-key: the second occurrence", async () => {
    await expectOnly(
      "p.yaml",
      `${head}tasks:\n  - id: a\n    prompt: x\n    prompt: y\n`,
      "duplicate-key",
      ['p.yaml:6:5: error: duplicate key "prompt" (first on line 5)', "   6 |     prompt: y", "     |     ^^^^^^"].join("\n"),
    );
  });

  it("unreadable: a file that does not exist has no source line", async () => {
    expect(await project.check("nope.yaml")).toBe("nope.yaml:1:1: error: file not found");
  });

  it("settings: orchestrator.yaml problems fail loadSettings", async () => {
    project.write("orchestrator.yaml", `agent: { kind: command, timeout: soon }\nconcurency: 2\n`);
    const { loadSettings } = await import("../src/config/index.js");
    const result = loadSettings({ cwd: project.dir, env: project.env });
    expect(result.ok).toBe(false);
    if (result.ok || result.failure.reason !== "config") return;
    expect(result.failure.diagnostics.map((d) => [d.line, d.col, d.code, d.message])).toEqual([
      [2, 1, "unknown-key", 'unknown key "concurency" (did you mean "concurrency"?)'],
    ]);
  });
});
