import type { Pipeline, RuleSpec } from "../core/pipeline.js";

/**
 * Rules every run has, whatever packs it uses: an LLM judge that asks for a human, or that could not judge twice in a
 * row, stops the task (the judge is evidence for a human, never a silent pass). A pipeline may override them by id.
 */
export const BUILTIN_RULES: readonly RuleSpec[] = [
  {
    id: "judge-needs-human",
    when: "verdict.needs_human",
    action: "pause",
    message: "the judge asked for a human: {{ verdict.summary }}",
    hook: "after_attempt",
    source: "builtin",
  },
  {
    id: "judge-failed-twice",
    when: "signals.judge_error && history.judge_errors >= 1",
    action: "pause",
    message: "the judge could not reach a verdict in two attempts in a row",
    hook: "after_attempt",
    source: "builtin",
  },
  {
    // run/agent-call.ts waits out limits up to agent.limits.max_wait; one that lifts later needs a human's call.
    id: "agent-limit-beyond-max-wait",
    when: "agent.limited",
    action: "pause",
    message: "the agent hit a {{ agent.limit_kind }} limit that lifts later than limits.max_wait allows ({{ agent.limit_reset_at }}); resolve, then `orc resume` once it has lifted",
    hook: "after_attempt",
    source: "builtin",
  },
];

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
