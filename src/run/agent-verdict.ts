/**
 * What a coding agent's structured output says about its own run, beyond the exit code: `is_error` (an API error
 * ends with exit 0 on some CLIs), permission denials (a blocked write still ends "success"), and errors no retry can
 * fix (bad credentials). Used by decide.ts; the agent's claims are never part of this.
 */
import type { AgentOutcome } from "../core/events.js";

function describeCall(call: { readonly name: string; readonly filePath?: string; readonly command?: string }): string {
  return call.filePath !== undefined ? `${call.name} ${call.filePath}` : call.command !== undefined ? `${call.name} ${call.command.slice(0, 80)}` : call.name;
}

/** Why the agent's own report makes the run a failure, or undefined when it reported none. */
export function reportedProblem(agent: AgentOutcome): string | undefined {
  const denials = agent.permissionDenials ?? [];
  if (denials.length > 0) {
    const shown = denials.slice(0, 5).map(describeCall).join(", ");
    return `agent was denied permission ${denials.length === 1 ? "once" : `${denials.length} times`} (${shown}${denials.length > 5 ? ", …" : ""})`;
  }
  if (agent.limit !== undefined) {
    const at = agent.limit.resetAt === undefined ? "" : ` (lifts at ${agent.limit.resetAt})`;
    return `agent hit a ${agent.limit.kind} limit${at}: ${agent.limit.message.slice(0, 200)}`;
  }
  if (agent.isError === true) return agent.error ?? "agent reported an error";
  return undefined;
}

/** An error the next attempt would meet again whatever it does (the API refused the credentials). */
export function notRetryable(agent: AgentOutcome): string | undefined {
  const status = agent.apiErrorStatus;
  if (status === 401 || status === 403) return `the model API refused the credentials (HTTP ${status}); retrying cannot help`;
  return undefined;
}
