import type { RuleSpec } from "./pipeline.js";

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
