import type { AgentOutcome, Decision, GateOutcome } from "../core/events.js";
import { formatDuration } from "../core/duration.js";
import { notRetryable, reportedProblem } from "./agent-verdict.js";

export interface DecisionInput {
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly agent: AgentOutcome;
  /** Gates that ran, in order; empty when the agent failed and gates were not worth running. */
  readonly gates: readonly GateOutcome[];
  readonly protectedTouched: readonly string[];
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
  }
}

/**
 * The decision engine: pure, every outcome with its reasons. Accept only when the agent exited cleanly, it left
 * protected paths alone, and every gate passed; the agent's claims never count as a pass.
 */
export function decide(input: DecisionInput): DecisionOutput {
  const reasons: string[] = [];
  const problem = agentProblem(input.agent);
  if (problem !== undefined) reasons.push(problem);
  for (const path of input.protectedTouched) reasons.push(`changed protected path ${path}`);
  for (const gate of input.gates) if (!gate.passed) reasons.push(`gate ${gate.gate} failed: ${gate.summary}`);

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
