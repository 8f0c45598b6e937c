import { describe, expect, it } from "vitest";
import { checkCondition, compileExpression, evaluateCondition } from "../src/core/expression.js";
import { BUILTIN_RULES, effectiveRules } from "../src/rules/builtin.js";
import { applyRules, evaluateRules, type FiredRule } from "../src/rules/engine.js";
import { runCase } from "../src/rules/fixtures.js";
import { emptyRuleContext } from "../src/rules/context.js";
import type { Pipeline, RuleSpec } from "../src/core/pipeline.js";

const rule = (id: string, action: RuleSpec["action"], when = "true"): RuleSpec => ({ id, when, action, hook: "after_attempt", source: "test" });
const fired = (r: RuleSpec): FiredRule => ({ rule: r, action: r.action, message: r.id });

describe("conditions", () => {
  it("normalises CEL integers to numbers and insists on a boolean", () => {
    const compiled = compileExpression("size(changes.files) + 1");
    expect(compiled.ok && compiled.evaluate(emptyRuleContext() as unknown as Record<string, unknown>)).toEqual({ ok: true, value: 1 });
    expect(evaluateCondition(compileExpression("1"), {})).toMatchObject({ ok: false, problem: { message: "the condition must be true or false, found 1" } });
  });

  it("refuses prototype tricks and reports unknown names with their offset", () => {
    expect(evaluateCondition(compileExpression('task["__proto__"] == null'), emptyRuleContext() as unknown as Record<string, unknown>).ok).toBe(false);
    expect(checkCondition("attempt > 1 && chnages.count > 0")).toMatchObject({ offset: 15, message: expect.stringContaining("Unknown variable: chnages") as unknown });
    expect(checkCondition("changes.count > 1")).toBeUndefined();
  });

  it("every name the empty context has is a documented root", () => {
    expect(checkCondition(Object.keys(emptyRuleContext()).map((k) => `has(${k}.x) || true`).join(" && "))).toBeUndefined();
  });
});

describe("decision precedence", () => {
  const base = { decision: "accept" as const, reasons: ["gates passed: tests"] };
  it("fail beats pause beats reject beats warn", () => {
    const all = [rule("w", "warn"), rule("r", "reject"), rule("p", "pause"), rule("f", "fail")].map(fired);
    expect(applyRules(base, all, true).decision).toBe("fail");
    expect(applyRules(base, all.slice(0, 3), true)).toMatchObject({ decision: "pause", pausedBy: { rule: { id: "p" } } });
    expect(applyRules(base, all.slice(0, 2), true).decision).toBe("retry");
    expect(applyRules(base, all.slice(0, 2), false).decision).toBe("fail");
    expect(applyRules(base, all.slice(0, 1), true)).toEqual({ decision: "accept", reasons: ["gates passed: tests", "warning by rule w: w"] });
  });

  it("never makes a failed attempt acceptable", () => {
    const retry = { decision: "retry" as const, reasons: ["gate tests failed"] };
    expect(applyRules(retry, [fired(rule("r", "reject"))], true)).toMatchObject({ decision: "retry", reasons: ["gate tests failed", "reject by rule r: r"] });
  });

  it("a condition that cannot be evaluated fails closed (pause), a warn rule only warns", () => {
    const out = evaluateRules([rule("bad", "reject", '"a" + 1 == "a1"'), rule("badwarn", "warn", '"a" + 1 == "a1"')], ["after_attempt"], emptyRuleContext());
    expect(out.map((f) => [f.rule.id, f.action])).toEqual([["bad", "pause"], ["badwarn", "warn"]]);
    expect(out[0]?.message).toContain("could not be evaluated: no such overload");
  });
});

describe("the judge's call for a human", () => {
  it("pauses when a judge verdict says needs_human, and when the judge could not run twice in a row", () => {
    const needsHuman = runCase(BUILTIN_RULES, {
      name: "needs human",
      line: 1,
      input: { gates: [{ id: "review", kind: "judge", passed: false, verdict: { verdict: "needs_human", issues: ["unclear requirement"] } }], decision: "retry" },
      context: {},
      expect: "pause",
    });
    expect(needsHuman).toMatchObject({ pass: true, actual: "pause" });
    expect(needsHuman.fired[0]?.message).toBe("the judge asked for a human: needs_human; unclear requirement");

    const judgeDown = { id: "review", kind: "judge", passed: false, end: "timeout" };
    const twice = runCase(BUILTIN_RULES, { name: "twice", line: 1, input: { gates: [judgeDown], earlier: [{ gates: [judgeDown] }], decision: "retry" }, context: {}, expect: "pause", rules: ["judge-failed-twice"] });
    expect(twice.pass).toBe(true);
    const once = runCase(BUILTIN_RULES, { name: "once", line: 1, input: { gates: [judgeDown], decision: "retry" }, context: {}, expect: "accept" });
    expect(once.pass).toBe(true);
  });

  it("a pipeline can override or disable a built-in rule by id", () => {
    const pipeline = { breakpoints: [{ id: "judge-needs-human", when: "false", action: "warn" }], disableRules: ["judge-failed-twice"] } as unknown as Pipeline;
    const rules = effectiveRules(pipeline).map((r) => [r.id, r.source]);
    expect(rules).toContainEqual(["judge-needs-human", "pipeline"]);
    expect(rules).not.toContainEqual(["judge-needs-human", "builtin"]);
    expect(rules.map(([id]) => id)).not.toContain("judge-failed-twice");
  });
});
