/**
 * Evaluates rules at one hook point and folds what fired into one decision. Pure apart from a cache of compiled
 * conditions. Precedence of actions: fail > pause > reject > warn (the strictest wins; every fired rule is reported).
 */
import { compileExpression, evaluateCondition, type Compiled } from "../core/expression.js";
import type { Decision } from "../core/events.js";
import type { RuleAction, RuleHook, RuleSpec } from "../core/pipeline.js";
import { renderTemplate } from "../prompts/engine.js";
import type { RuleContext } from "./context.js";

export interface FiredRule {
  readonly rule: RuleSpec;
  /** The action taken: the rule's own, or `pause` for a rule whose condition could not be evaluated. */
  readonly action: RuleAction;
  readonly message: string;
}

const compiled = new Map<string, Compiled>();
function compile(source: string): Compiled {
  let c = compiled.get(source);
  if (c === undefined) {
    c = compileExpression(source);
    compiled.set(source, c);
  }
  return c;
}

/** The hooks evaluated after an attempt's gates, given the decision orc reached before the rules. */
export function hooksAfter(decision: Decision): readonly RuleHook[] {
  return decision === "accept" ? ["after_attempt", "before_accept"] : ["after_attempt", "on_failure"];
}

function renderMessage(rule: RuleSpec, context: RuleContext): string {
  const fallback = `rule ${rule.id} matched: ${rule.when}`;
  if (rule.message === undefined) return fallback;
  const rendered = renderTemplate({ path: `rule ${rule.id}: message`, source: rule.message }, context as unknown as Record<string, unknown>);
  return rendered.ok ? rendered.text.trim() : `${rule.message} (message template error: ${rendered.message})`;
}

/**
 * The rules of `hooks` whose condition holds. A condition that cannot be evaluated (a type error, a missing key) fails
 * closed: the rule fires as `pause` (as `warn` for a warn rule) with the error, so a broken rule stops for a human
 * rather than letting an attempt through unchecked.
 */
export function evaluateRules(rules: readonly RuleSpec[], hooks: readonly RuleHook[], context: RuleContext): FiredRule[] {
  const fired: FiredRule[] = [];
  const ctx = context as unknown as Record<string, unknown>;
  for (const rule of rules) {
    if (!hooks.includes(rule.hook)) continue;
    const result = evaluateCondition(compile(rule.when), ctx);
    if (result.ok) {
      if (result.value) fired.push({ rule, action: rule.action, message: renderMessage(rule, context) });
      continue;
    }
    fired.push({
      rule,
      action: rule.action === "warn" ? "warn" : "pause",
      message: `rule ${rule.id} could not be evaluated: ${result.problem.message}`,
    });
  }
  return fired;
}

const RANK: Readonly<Record<RuleAction, number>> = { warn: 0, reject: 1, pause: 2, fail: 3 };

/** The strictest action among what fired, or undefined when nothing (or only warnings) fired. */
export function strictest(fired: readonly FiredRule[]): FiredRule | undefined {
  let best: FiredRule | undefined;
  for (const f of fired) if (f.action !== "warn" && (best === undefined || RANK[f.action] > RANK[best.action])) best = f;
  return best;
}

export interface RuledDecision {
  readonly decision: Decision;
  readonly reasons: readonly string[];
  /** The rule that paused the task, when the decision is `pause`. */
  readonly pausedBy?: FiredRule;
}

/**
 * Folds fired rules into orc's own decision. `fail` fails the task; `pause` stops it for a human; `reject` turns an
 * accept into a retry (a fail when no attempt is left) with the rule's message as the reason; `warn` only adds a
 * reason. A failed or retried attempt stays so: rules can make a decision stricter, never laxer.
 */
export function applyRules(
  base: { readonly decision: Decision; readonly reasons: readonly string[] },
  fired: readonly FiredRule[],
  attemptsLeft: boolean,
): RuledDecision {
  const reasonOf = (f: FiredRule): string => `${f.action === "warn" ? "warning" : f.action} by rule ${f.rule.id}: ${f.message}`;
  const ruleReasons = fired.map(reasonOf);
  const top = strictest(fired);
  if (top === undefined) return { decision: base.decision, reasons: [...base.reasons, ...ruleReasons] };
  const reasons = base.decision === "accept" ? ruleReasons : [...base.reasons, ...ruleReasons];
  switch (top.action) {
    case "fail":
      return { decision: "fail", reasons };
    case "pause":
      return { decision: "pause", reasons, pausedBy: top };
    case "reject":
    case "warn":
      if (base.decision !== "accept") return { decision: base.decision, reasons };
      return attemptsLeft ? { decision: "retry", reasons } : { decision: "fail", reasons: [...reasons, "no attempts left"] };
  }
}
