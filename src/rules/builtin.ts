import { BUILTIN_RULES } from "../core/builtin-rules.js";
import type { Pipeline, RuleSpec } from "../core/pipeline.js";

// The data lives in core/: config/ checks `disable_rules:` against these ids, and rules/ evaluates them.
export { BUILTIN_RULES };

/** The rules a run evaluates: resolved at load time (`rules`), else the pipeline's own breakpoints; builtins first. */
export function effectiveRules(pipeline: Pipeline): readonly RuleSpec[] {
  // Asked before and after every attempt; a pipeline never changes during a run.
  let rules = effective.get(pipeline);
  if (rules === undefined) {
    rules = computeEffectiveRules(pipeline);
    effective.set(pipeline, rules);
  }
  return rules;
}

const effective = new WeakMap<Pipeline, readonly RuleSpec[]>();

function computeEffectiveRules(pipeline: Pipeline): readonly RuleSpec[] {
  const own: readonly RuleSpec[] =
    pipeline.rules ??
    pipeline.breakpoints.map((b) => ({
      id: b.id,
      when: b.when,
      action: b.action,
      ...(b.message === undefined ? {} : { message: b.message }),
      hook: b.hook ?? "after_attempt",
      source: "pipeline",
    }));
  const overridden = new Set(own.map((r) => r.id));
  const disabled = new Set(pipeline.disableRules ?? []);
  return [...BUILTIN_RULES.filter((r) => !overridden.has(r.id) && !disabled.has(r.id)), ...own];
}
