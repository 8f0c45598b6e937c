import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";
import { guardedPipeline, writeCalcWorkspace, type Breakpoint, type LoggedEvent, type Status } from "./helpers/rules-project.js";

/**
 * Agents that cheat on purpose, run through the real binary against the shipped packs: each is caught and never
 * accepted; an honest agent on the same pipeline is accepted with no breakpoint.
 */
describe("shipped rule packs catch agents that cheat", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-rules-");
    writeCalcWorkspace(rig);
    rig.write("pipeline.yaml", guardedPipeline());
  });
  afterEach(() => {
    rig.cleanup();
  });

  const apply = (behaviour: string) => rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { BEHAVIOUR: behaviour, PROMPT_LOG: rig.path("prompts") } });
  const firedRules = (runId: string): string[] =>
    rig
      .orc(["logs", runId, "--json"])
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l) as LoggedEvent)
      .filter((e) => e.type === "rule.fired")
      .map((e) => `${e.rule ?? ""}:${e.action ?? ""}`);

  it("accepts an honest agent with no breakpoint and no rule fired", () => {
    const result = apply("honest");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks[0]?.status).toBe("accepted");
    expect(status.breakpoints).toEqual([]);
    expect(firedRules(status.run.id)).toEqual([]);
  });

  it.each([
    ["delete-test", "test-deleted", 1],
    ["skip-marker", "skip-marker-added", 1],
    ["assert-nothing", "protected-test-edited", 1],
    ["claim-only", "same-failure", 2],
    ["loop", "same-failure", 2],
    ["huge", "huge-diff", 1],
  ])("pauses an agent that behaves as %s (rule %s, attempt %i) and never accepts it", (behaviour, rule, attempt) => {
    const result = apply(behaviour);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`paused at breakpoint bp-`);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("paused");
    const task = status.tasks[0];
    expect(task?.status).toBe("paused");
    expect(task?.attempts.map((a) => a.decision)).not.toContain("accept");
    expect(task?.attempts.at(-1)?.decision).toBe("pause");
    expect(status.breakpoints).toHaveLength(1);
    expect(status.breakpoints[0]).toMatchObject({ rule, task: "fix", attempt, status: "open" });
    expect(firedRules(status.run.id)).toContain(`${rule}:pause`);
  });

  it("rejects an agent whose final message the evidence contradicts, with each contradiction as the reason (stuck/claims-contradicted)", () => {
    const result = apply("overclaim");
    expect(result.code).not.toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    const task = status.tasks[0];
    expect(task?.attempts.map((a) => a.decision)).not.toContain("accept");
    expect(firedRules(status.run.id)[0]).toBe("claims-contradicted:reject");
    const claim = "Fixed add() in src/calc.mjs and src/format.mjs, and added regression tests.";
    expect(task?.attempts[0]?.reasons).toEqual([
      `reject by rule claims-contradicted: the agent's claims contradict the evidence: "${claim}": no test file changed (changed: src/calc.mjs); "${claim}": src/format.mjs did not change`,
    ]);
    // The retry prompt tells the agent what did not match.
    expect(readFileSync(rig.path("prompts/fix-2.txt"), "utf8")).toContain(`What you said does not match what happened:\n- "${claim}": no test file changed`);
  });

  it("rejects the first attempt that claims success without changing a file (stuck/no-change)", () => {
    apply("claim-only");
    const status = rig.json<Status>(["status", "--json"]);
    expect(firedRules(status.run.id)[0]).toBe("no-change:reject");
    expect(status.tasks[0]?.attempts[0]?.reasons.join("\n")).toContain("reject by rule no-change: the agent finished without changing any file; it said: I fixed add()");
  });
});

describe("the breakpoint cycle: pause → breakpoints → resolve → resume", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-bp-");
    writeCalcWorkspace(rig);
    rig.write("pipeline.yaml", guardedPipeline());
  });
  afterEach(() => {
    rig.cleanup();
  });

  const env = () => ({ BEHAVIOUR: "skip-marker", PROMPT_LOG: rig.path("prompts") });
  const pause = (): Breakpoint => {
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: env() });
    expect(applied.code, `${applied.stdout}\n${applied.stderr}`).toBe(3);
    const open = rig.json<Breakpoint[]>(["breakpoints", "--json"]);
    expect(open).toHaveLength(1);
    const bp = open[0];
    if (bp === undefined) throw new Error("no breakpoint");
    return bp;
  };

  it("--retry: a second process resolves it after the first exited, and the note reaches the next prompt", () => {
    const bp = pause();
    expect(bp).toMatchObject({ rule: "skip-marker-added", status: "open", task: "fix", attempt: 1 });
    expect(bp.context).toMatchObject({ source: "test-integrity", hook: "after_attempt", files: 1, linesChanged: 2 });
    expect(bp.context.changedFiles).toEqual(["M tests/calc.test.mjs (+1 -1)"]);
    // The gate ran the project's own tests (tests/** is protected, so the agent's skip was put back first): add() still fails.
    expect(bp.context.gates).toEqual([{ gate: "tests", passed: false, summary: expect.stringMatching(/^exit 1 .*: 1 passed, 1 failed/) as unknown }]);

    const text = rig.orc(["breakpoints", bp.run]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${bp.id}  open  run ${bp.run}  task fix  attempt 1  rule skip-marker-added (test-integrity, after_attempt)`);
    expect(text.stdout).toContain(`resolve  orc resolve ${bp.id} --approve | --reject | --retry`);

    const statusText = rig.orc(["status"]);
    expect(statusText.stdout).toContain(`run ${bp.run}: paused`);
    expect(statusText.stdout).toContain(`open breakpoints (\`orc breakpoints\` for details):\n  ${bp.id}  task fix  rule skip-marker-added: a skip, only or todo marker`);

    const note = "Never skip a test; the bug is in add().";
    const resolved = rig.orc(["resolve", bp.id, "--retry", "--note", note]);
    expect(resolved.stderr).toBe("");
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toContain(`${bp.id} resolved: retry`);
    expect(rig.json<Breakpoint[]>(["breakpoints", "--json"])).toEqual([]);

    const resumed = rig.orc(["resume", bp.run], { env: env() });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const prompt = rig.read("prompts/fix-2.txt");
    expect(prompt).toContain("A human reviewed your previous attempt and left this note:");
    expect(prompt).toContain(note);
    const status = rig.json<Status>(["status", "--json", bp.run]);
    expect(status.run.status).toBe("succeeded");
    expect(status.tasks[0]?.attempts.map((a) => a.decision)).toEqual(["pause", "accept"]);
    expect(status.breakpoints[0]).toMatchObject({ id: bp.id, status: "resolved", resolution: "retry", note });
  });

  it("--approve accepts the paused attempt; --reject fails the task", () => {
    const first = pause();
    expect(rig.orc(["resolve", first.id, "--approve", "--note", "skip is intended here"]).code).toBe(0);
    const approved = rig.orc(["resume", first.run], { env: env() });
    expect(approved.code).toBe(0);
    const a = rig.json<Status>(["status", "--json", first.run]);
    expect(a.tasks[0]).toMatchObject({ status: "accepted", reason: `approved at breakpoint ${first.id} (skip-marker-added): skip is intended here` });
    expect(a.tasks[0]?.attempts).toHaveLength(1);

    writeCalcWorkspace(rig);
    const second = pause();
    expect(rig.orc(["resolve", second.id, "--reject"]).code).toBe(0);
    const rejected = rig.orc(["resume", second.run], { env: env() });
    expect(rejected.code).toBe(1);
    expect(rig.json<Status>(["status", "--json", second.run]).tasks[0]).toMatchObject({ status: "failed" });
  });

  it("--wait: the first process stays up at the breakpoint and continues when a second process resolves it", async () => {
    const child = rig.start(["apply", "pipeline.yaml", "--workspace", "ws", "--wait"], { env: env() });
    await child.waitFor(/paused at breakpoint (bp-[0-9a-f]+)/);
    const id = /paused at breakpoint (bp-[0-9a-f]+)/.exec(child.stdout)?.[1] ?? "";
    expect(child.child.exitCode).toBeNull();
    const resolved = rig.orc(["resolve", id, "--retry", "--note", "fix add() instead"]);
    expect(resolved.code).toBe(0);
    expect(await child.finished()).toBe(0);
    expect(child.stdout).toContain("[fix] attempt 2: accept");
    expect(rig.read("prompts/fix-2.txt")).toContain("fix add() instead");
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("succeeded");
    expect(status.tasks[0]?.attempts.map((a) => a.decision)).toEqual(["pause", "accept"]);
  });

  it("resume before resolving keeps waiting (exit 3); resolve refuses bad input with exit 2", () => {
    const bp = pause();
    const waiting = rig.orc(["resume", bp.run], { env: env() });
    expect(waiting.code, `${waiting.stdout}\n${waiting.stderr}`).toBe(3);
    expect(rig.json<Breakpoint[]>(["breakpoints", "--json"])).toHaveLength(1);

    const none = rig.orc(["resolve", bp.id]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give exactly one of --approve, --reject or --retry");
    const two = rig.orc(["resolve", bp.id, "--approve", "--reject"]);
    expect(two.code).toBe(2);
    const unknown = rig.orc(["resolve", "bp-00000000", "--approve"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown breakpoint "bp-00000000"');
    expect(rig.orc(["resolve", bp.id, "--reject"]).code).toBe(0);
    const again = rig.orc(["resolve", bp.id, "--approve"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already resolved (reject");
  });
});
