import type { AgentOutcome, Decision, GateOutcome } from "../core/events.js";
import { formatDuration } from "../core/duration.js";
import { notRetryable, reportedProblem } from "./agent-verdict.js";

export interface DecisionInput {
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly agent: AgentOutcome;
  /** Gates that ran, in order; empty when the agent failed and gates were not worth running. */
  readonly gates: readonly GateOutcome[];
  /** Protected paths the agent changed, as the reasons name them; they were put back before the gates ran. */
  readonly protectedTouched: readonly string[];
  /** The task's gates on its untouched workspace (src/run/baseline.ts); empty when no baseline ran. */
  readonly baseline?: readonly GateOutcome[];
}

export interface DecisionOutput {
  readonly decision: Decision;
  readonly reasons: readonly string[];
}

/** Why the agent's own run did not count, in words; undefined when it exited 0. */
export function agentProblem(agent: AgentOutcome): string | undefined {
  switch (agent.end) {
    case "exited":
      // The agent's own report (is_error, permission denials, a limit) says more than its exit code.
      return reportedProblem(agent) ?? (agent.exitCode === 0 ? undefined : `agent exited with code ${agent.exitCode ?? "?"}`);
    case "timeout":
      return `agent timed out after ${formatDuration(agent.durationMs)}`;
    case "stalled":
      return agent.error ?? "agent stopped producing output (inactivity timeout)";
    case "cancelled":
      return "agent was cancelled";
    case "spawn-error":
      return `agent could not start: ${agent.error ?? "unknown error"}`;
    case "transport-lost":
      return `the agent's transport went away: ${agent.error ?? "unknown error"}`;
  }
}

/**
 * The decision engine: pure, every outcome with its reasons. Accept only when the agent exited cleanly, it left
 * protected paths alone, every gate passed, and no gate ran fewer tests than its baseline; the agent's claims never
 * count as a pass.
 */
export function decide(input: DecisionInput): DecisionOutput {
  const reasons: string[] = [];
  const problem = agentProblem(input.agent);
  if (problem !== undefined) reasons.push(problem);
  for (const path of input.protectedTouched) reasons.push(`changed protected path ${path}; it was put back before the gates ran`);
  for (const gate of input.gates) if (!gate.passed) reasons.push(`gate ${gate.gate} failed: ${gate.summary}`);
  reasons.push(...fewerTestsThanBaseline(input.gates, input.baseline ?? []));

  if (reasons.length === 0) {
    const passed = input.gates.map((g) => g.gate);
    return { decision: "accept", reasons: [passed.length > 0 ? `gates passed: ${passed.join(", ")}` : "agent exited 0; no gates configured"] };
  }
  const fatal = notRetryable(input.agent);
  if (fatal !== undefined) return { decision: "fail", reasons: [...reasons, fatal] };
  if (input.attempt >= input.maxAttempts) {
    return { decision: "fail", reasons: [...reasons, `no attempts left (${input.attempt} of ${input.maxAttempts})`] };
  }
  return { decision: "retry", reasons };
}

/** Why an attempt's gates ran fewer tests than the baseline's, one reason per gate; empty when none did. */
export function fewerTestsThanBaseline(gates: readonly GateOutcome[], baseline: readonly GateOutcome[]): string[] {
  const reasons: string[] = [];
  for (const gate of gates) {
    const before = baseline.find((b) => b.gate === gate.gate)?.tests;
    if (before === undefined || before.total === 0) continue;
    const now = gate.tests?.total ?? 0;
    if (now >= before.total) continue;
    reasons.push(
      now === 0
        ? `gate ${gate.gate} ran no tests orc could count; before the task it ran ${before.total}`
        : `gate ${gate.gate} ran ${now} tests, fewer than the ${before.total} it ran before the task`,
    );
  }
  return reasons;
}
