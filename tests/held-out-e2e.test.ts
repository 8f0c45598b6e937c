import { existsSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";
import { RULES_AGENT, writeCalcWorkspace, type Status } from "./helpers/rules-project.js";

/**
 * Held-out gates and baselines, through the real binary: agents that cheat on a small real project (node --test, and
 * pytest) are never accepted, with the reason recorded; honest agents are accepted with no
 * breakpoint.
 */
interface Logged {
  type: string;
  task?: string;
  files?: { path: string }[];
  result?: { gate: string; passed: boolean; tests?: { total: number; failed: number } };
}

function pipeline(options: { uses?: string; task?: string; gate?: string; maxAttempts?: number } = {}): string {
  return `version: 1
name: held-out
transport: local
uses: ${options.uses ?? "[orc:test-integrity]"}
agent: { kind: command, run: node ${JSON.stringify(RULES_AGENT)} }
gates:
  tests: { run: ${options.gate ?? "npm test"}, timeout: 60s }
defaults: { max_attempts: ${String(options.maxAttempts ?? 1)} }
tasks:
  - id: fix
    prompt: Make the tests pass by fixing the code.
    gates: [tests]
${options.task ?? ""}`;
}

describe("held-out gates and baselines catch agents that cheat", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-held-out-");
    writeCalcWorkspace(rig);
    rig.write("ws/package.json", `${JSON.stringify({ name: "calc", private: true, type: "module", scripts: { test: "node --test tests/" } }, null, 2)}\n`);
  });
  afterEach(() => {
    rig.cleanup();
  });

  const apply = (behaviour: string) => rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { BEHAVIOUR: behaviour, PROMPT_LOG: rig.path("prompts") } });
  const events = (): Logged[] =>
    rig
      .orc(["logs", rig.json<Status>(["status", "--json"]).run.id, "--json"])
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Logged);
  const reasons = (): string[] => rig.json<Status>(["status", "--json"]).tasks[0]?.attempts.flatMap((a) => a.reasons) ?? [];
  const neverAccepted = (): void => {
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks[0]?.status).not.toBe("accepted");
    expect(status.tasks[0]?.attempts.map((a) => a.decision)).not.toContain("accept");
  };

  it("an agent that rewrites the test script to echo success: the script is put back, the real tests fail", () => {
    rig.write("pipeline.yaml", pipeline());
    const result = apply("rewrite-script");
    expect(result.code).toBe(1);
    neverAccepted();
    expect(reasons()).toContain("changed protected path package.json (its scripts); it was put back before the gates ran");
    expect(reasons().some((r) => r.startsWith("gate tests failed: exit 1"))).toBe(true);
  });

  it("the same cheat without the pack: the baseline counted 2 tests, the echo counts none", () => {
    rig.write("pipeline.yaml", pipeline({ uses: "[]" }));
    apply("rewrite-script");
    neverAccepted();
    expect(reasons()).toContain("gate tests ran no tests orc could count; before the task it ran 2");
    const baseline = events().filter((e) => e.type === "baseline.finished");
    expect(baseline.map((e) => ({ gate: e.result?.gate, passed: e.result?.passed, total: e.result?.tests?.total, failed: e.result?.tests?.failed }))).toEqual([
      { gate: "tests", passed: false, total: 2, failed: 1 },
    ]);
  });

  it("an agent that renames the failing test out of the runner's pattern runs fewer tests than the baseline", () => {
    rig.write("pipeline.yaml", pipeline({ uses: "[]" }));
    apply("rename-test");
    neverAccepted();
    expect(reasons()).toContain("gate tests ran no tests orc could count; before the task it ran 2");
  });

  it("an agent that weakens a protected test: the gate runs the original, which still fails", () => {
    rig.write("pipeline.yaml", pipeline({ uses: "[]", task: '    protect: ["tests/**"]\n' }));
    apply("assert-nothing");
    neverAccepted();
    expect(reasons()).toContain("changed protected path tests/calc.test.mjs; it was put back before the gates ran");
    expect(reasons().some((r) => /^gate tests failed: exit 1 .*1 passed, 1 failed/.test(r))).toBe(true);
  });

  it("an agent that only claims success is retried on the failing gate and never accepted", () => {
    rig.write("pipeline.yaml", pipeline({ maxAttempts: 2 }));
    const result = apply("claim-only");
    expect(result.code).toBe(1);
    neverAccepted();
    expect(rig.json<Status>(["status", "--json"]).tasks[0]?.attempts.map((a) => a.decision)).toEqual(["retry", "fail"]);
  });

  it("accepts an honest agent that also adds a dependency to package.json, with no breakpoint; the edit stays", () => {
    rig.write("pipeline.yaml", pipeline());
    const result = apply("add-dependency");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks[0]?.status).toBe("accepted");
    expect(status.breakpoints).toEqual([]);
    expect(rig.read("ws/package.json")).toContain('"left-pad"');
  });

  it("hidden tests are absent while the agent works, judge its code, never show in its changes, and stay after", () => {
    rig.write("ws/tests/hidden/extra.test.mjs", 'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { add } from "../../src/calc.mjs";\ntest("adds more", () => { assert.equal(add(10, 5), 15); });\n');
    rig.write("pipeline.yaml", pipeline({ gate: '"node --test tests/ tests/hidden/"', task: '    hidden: ["tests/hidden/**"]\n' }));
    const result = apply("peek-hidden");
    expect(result.code).toBe(0);
    expect(rig.read("prompts/seen.txt")).toBe("no hidden tests\n");
    const changed = events().filter((e) => e.type === "changes.detected").flatMap((e) => e.files?.map((f) => f.path) ?? []);
    expect(changed).toEqual(["src/calc.mjs"]);
    const gate = events().find((e) => e.type === "gate.finished");
    expect(gate?.result).toMatchObject({ passed: true, tests: { total: 3, failed: 0 } });
    expect(existsSync(rig.path("ws/tests/hidden/extra.test.mjs"))).toBe(true);
  });

  it("baseline: false runs no baseline", () => {
    rig.write("pipeline.yaml", pipeline({ uses: "[]", task: "    baseline: false\n" }));
    apply("honest");
    expect(events().filter((e) => e.type === "baseline.finished")).toEqual([]);
  });
});

// pytest comes from Debian's python3-pytest, which .ci/run installs.
describe("a pytest project", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-held-out-py-");
    rig.write("ws/calc.py", "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n");
    rig.write("ws/tests/test_calc.py", "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n");
    rig.write("ws/tests/__init__.py", "");
    rig.write("ws/conftest.py", "");
    const gate = '"PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -q -p no:cacheprovider tests"';
    rig.write("pipeline.yaml", pipeline({ gate }));
  });
  afterEach(() => {
    rig.cleanup();
  });
  const apply = (behaviour: string) => rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { BEHAVIOUR: behaviour, PROMPT_LOG: rig.path("prompts") } });

  it("an agent that adds a pytest.ini deselecting the failing test: the config is removed for the gates", () => {
    expect(apply("pytest-config").code).toBe(1);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks[0]?.attempts.map((a) => a.decision)).toEqual(["fail"]);
    const why = status.tasks[0]?.attempts[0]?.reasons ?? [];
    expect(why).toContain("changed protected path pytest.ini; it was put back before the gates ran");
    expect(why.some((r) => /^gate tests failed: exit 1 .*1 passed, 1 failed/.test(r))).toBe(true);
  });

  it("accepts the honest fix", () => {
    const result = apply("pytest-honest");
    expect(result.code).toBe(0);
    expect(rig.json<Status>(["status", "--json"]).tasks[0]?.status).toBe("accepted");
  });
});
