import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { Rig } from "./helpers/rig.js";

/**
 * The exact text a user sees for each kind of mistake, through the real binary: `file:line:col: error: message`,
 * the source line, and the span marked. Exit code 2, nothing written, no stack trace.
 */
const CASES: readonly { readonly mistake: string; readonly file: string; readonly yaml: string; readonly stderr: string }[] = [
  {
    mistake: "unknown need with a did-you-mean",
    file: "feature.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - id: design\n    prompt: design\n  - id: implement\n    needs: [desing]\n    prompt: build\n",
    stderr: "pipelines/feature.yaml:6:13: error: task \"implement\" needs unknown task \"desing\" (did you mean \"design\"?)\n   6 |     needs: [desing]\n     |             ^^^^^^\n",
  },
  {
    mistake: "a dependency cycle naming every task on it",
    file: "cycle.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x, needs: [c] }\n  - { id: b, prompt: x, needs: a }\n  - { id: c, prompt: x, needs: [b] }\n",
    stderr: "pipelines/cycle.yaml:3:33: error: dependency cycle: a -> c -> b -> a\n   3 |   - { id: a, prompt: x, needs: [c] }\n     |                                 ^\n",
  },
  {
    mistake: "a duplicate task id",
    file: "dup.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - id: build\n    prompt: x\n  - id: build\n    prompt: y\n",
    stderr: "pipelines/dup.yaml:5:9: error: duplicate task id \"build\" (first defined on line 3)\n   5 |   - id: build\n     |         ^^^^^\n",
  },
  {
    mistake: "an unknown gate",
    file: "gate.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ngates:\n  tests: { run: \"npm test\" }\ntasks:\n  - { id: a, prompt: x, gates: [tets] }\n",
    stderr: "pipelines/gate.yaml:5:33: error: task \"a\" uses unknown gate \"tets\" (did you mean \"tests\"?)\n   5 |   - { id: a, prompt: x, gates: [tets] }\n     |                                 ^^^^\n",
  },
  {
    mistake: "a missing template file",
    file: "tmpl.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - id: a\n    template: templates/missing.liquid\n",
    stderr: "pipelines/tmpl.yaml:4:15: error: task \"a\": template file \"templates/missing.liquid\" not found\n   4 |     template: templates/missing.liquid\n     |               ^^^^^^^^^^^^^^^^^^^^^^^^\n",
  },
  {
    mistake: "an unknown agent kind",
    file: "kind.yaml",
    yaml: "agent: { kind: claude-cod }\ntasks:\n  - { id: a, prompt: x }\n",
    stderr: "pipelines/kind.yaml:1:16: error: unknown agent kind \"claude-cod\" (did you mean \"claude-code\"?)\n   1 | agent: { kind: claude-cod }\n     |                ^^^^^^^^^^\n",
  },
  {
    mistake: "a bad duration",
    file: "dur.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ngates:\n  tests: { run: \"npm test\", timeout: 10 minutes }\ntasks:\n  - { id: a, prompt: x, gates: [tests] }\n",
    stderr: "pipelines/dur.yaml:3:38: error: gate \"tests\": timeout \"10 minutes\" is not a duration (write e.g. 90s, 10m, 1h30m, 500ms, or a number of seconds)\n   3 |   tests: { run: \"npm test\", timeout: 10 minutes }\n     |                                      ^^^^^^^^^^\n",
  },
  {
    mistake: "both prompt and template",
    file: "both.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - id: a\n    prompt: x\n    template: t.liquid\n",
    stderr: "pipelines/both.yaml:5:5: error: task \"a\" has both prompt and template: give only one\n   5 |     template: t.liquid\n     |     ^^^^^^^^\n",
  },
  {
    mistake: "a YAML syntax error",
    file: "syntax.yaml",
    yaml: "tasks:\n  - id: \"a\n    prompt: x\n",
    stderr: "pipelines/syntax.yaml:3:14: error: missing closing \"quote\n   3 |     prompt: x\n     |              ^\n",
  },
  {
    mistake: "a task that needs itself",
    file: "self.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x, needs: [a] }\n",
    stderr: "pipelines/self.yaml:3:33: error: task \"a\" needs itself\n   3 |   - { id: a, prompt: x, needs: [a] }\n     |                                 ^\n",
  },
  {
    mistake: "a __proto__ key",
    file: "proto.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x, __proto__: { polluted: true } }\n",
    stderr: "pipelines/proto.yaml:3:25: error: key \"__proto__\" is not allowed\n   3 |   - { id: a, prompt: x, __proto__: { polluted: true } }\n     |                         ^^^^^^^^^\n",
  },
  {
    mistake: "a wrong type",
    file: "type.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x, max_attempts: many }\n",
    stderr: "pipelines/type.yaml:3:39: error: task \"a\": max_attempts must be an integer, found a string (\"many\")\n   3 |   - { id: a, prompt: x, max_attempts: many }\n     |                                       ^^^^\n",
  },
  {
    mistake: "an unknown key with a did-you-mean",
    file: "key.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x, nedds: [b] }\n",
    stderr: "pipelines/key.yaml:3:25: error: task \"a\": unknown key \"nedds\" (did you mean \"needs\"?)\n   3 |   - { id: a, prompt: x, nedds: [b] }\n     |                         ^^^^^\n",
  },
  {
    mistake: "a value outside an enum",
    file: "enum.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x }\nbreakpoints:\n  - { id: big, when: \"changes.lines_changed > 800\", action: paus }\n",
    stderr: "pipelines/enum.yaml:5:61: error: breakpoint \"big\": action must be one of: pause, reject, fail, warn (found \"paus\"; did you mean \"pause\"?)\n   5 |   - { id: big, when: \"changes.lines_changed > 800\", action: paus }\n     |                                                             ^^^^\n",
  },
  {
    mistake: "an unsupported version",
    file: "version.yaml",
    yaml: "version: 2\nagent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x }\n",
    stderr: "pipelines/version.yaml:1:10: error: unsupported version 2: this orc reads version 1\n   1 | version: 2\n     |          ^\n",
  },
  {
    mistake: "a command agent without run",
    file: "run.yaml",
    yaml: "agent: { kind: command }\ntasks:\n  - { id: a, prompt: x }\n",
    stderr: "pipelines/run.yaml:1:8: error: agent kind \"command\" needs \"run\" (the command line that starts the agent)\n   1 | agent: { kind: command }\n     |        ^^^^^^^^^^^^^^^^^\n",
  },
  {
    mistake: "max_attempts below 1",
    file: "range.yaml",
    yaml: "agent: { kind: command, run: \"true\" }\ntasks:\n  - { id: a, prompt: x, max_attempts: 0 }\n",
    stderr: "pipelines/range.yaml:3:39: error: task \"a\": max_attempts must be at least 1 (found 0)\n   3 |   - { id: a, prompt: x, max_attempts: 0 }\n     |                                       ^\n",
  },
];

describe("orc validate: diagnostics", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = new Rig();
    for (const c of CASES) rig.write(`pipelines/${c.file}`, c.yaml);
  });
  afterAll(() => {
    rig.cleanup();
  });

  it.each(CASES)("points at $mistake", (c) => {
    const result = rig.orc(["validate", `pipelines/${c.file}`]);
    expect(result.stderr).toBe(c.stderr);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
  });

  it("gives the same problems as JSON with --json, one object per problem", () => {
    const result = rig.orc(["validate", "pipelines/feature.yaml", "--json"]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        file: rig.path("pipelines", "feature.yaml"),
        line: 6,
        col: 13,
        severity: "error",
        code: "unknown-need",
        message: 'task "implement" needs unknown task "desing" (did you mean "design"?)',
      },
    ]);
  });

  it("reports every file's problems in one pass and writes nothing", () => {
    const result = rig.orc(["validate", ...CASES.slice(0, 4).map((c) => `pipelines/${c.file}`)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(CASES.slice(0, 4).map((c) => c.stderr).join(""));
    expect(existsSync(rig.stateDir())).toBe(false);
  });

  it("refuses to apply an invalid pipeline with the same diagnostics and exit 2, creating no state", () => {
    const result = rig.orc(["apply", "pipelines/cycle.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(CASES.find((c) => c.file === "cycle.yaml")?.stderr);
    expect(existsSync(rig.stateDir())).toBe(false);
  });

  it("checks a task's gates and pack: templates against the rule packs it uses, with positions", () => {
    rig.write("packs/p.yaml", 'name: p\nversion: 1\nrules: []\ngates:\n  lint: { run: "npm run lint" }\ntemplates:\n  fix: fix.liquid\n');
    rig.write("packs/fix.liquid", "Fix {{ task.id }}\n");
    const pipeline = (gate: string, template: string): string =>
      `agent: { kind: command, run: "true" }\nuses: [./packs/p.yaml]\ntasks:\n  - id: a\n    template: ${template}\n    gates: [${gate}]\n`;
    rig.write("pipelines/pack-ok.yaml", pipeline("lint", "pack:fix"));
    expect(rig.orc(["validate", "pipelines/pack-ok.yaml", "packs/p.yaml"])).toEqual({ code: 0, stdout: "2 files valid\n", stderr: "" });
    rig.write("pipelines/pack-bad.yaml", pipeline("lnt", "pack:fixx"));
    const result = rig.orc(["validate", "pipelines/pack-bad.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'pipelines/pack-bad.yaml:5:15: error: task "a": template file "pack:fixx": no rule pack in uses: has a template "fixx" (did you mean "fix"?)\n' +
        "   5 |     template: pack:fixx\n     |               ^^^^^^^^^\n" +
        'pipelines/pack-bad.yaml:6:13: error: task "a" uses unknown gate "lnt" (did you mean "lint"?)\n' +
        "   6 |     gates: [lnt]\n     |             ^^^\n",
    );
  });

  it("says a valid file is valid", () => {
    rig.write("pipelines/ok.yaml", 'agent: { kind: command, run: "true" }\ntasks:\n  - { id: a, prompt: x }\n');
    const result = rig.orc(["validate", "pipelines/ok.yaml"]);
    expect(result).toEqual({ code: 0, stdout: "1 file valid\n", stderr: "" });
    expect(rig.orc(["validate", "pipelines/ok.yaml", "--json"]).stdout).toBe("[]\n");
  });
});
