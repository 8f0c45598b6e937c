import type { AgentLimit, AgentOutcome } from "../core/events.js";
import { formatDuration } from "../core/duration.js";

/** `, $0.0123, 3 turns, 2 tool calls, session 1f2e…` for agents that report these; "" for plain-text agents. */
export function agentStats(r: AgentOutcome): string {
  const parts: string[] = [];
  if (r.costUsd !== undefined) parts.push(`$${r.costUsd.toFixed(4)}`);
  if (r.turns !== undefined) parts.push(`${r.turns} turn${r.turns === 1 ? "" : "s"}`);
  const calls = r.toolCalls?.length ?? 0;
  if (calls > 0) parts.push(`${calls} tool call${calls === 1 ? "" : "s"}`);
  const denied = r.permissionDenials?.length ?? 0;
  if (denied > 0) parts.push(`${denied} denied`);
  if (r.isError === true) parts.push(`error${r.apiErrorStatus === undefined ? "" : ` ${r.apiErrorStatus}`}`);
  if (r.sessionId !== undefined) parts.push(`session ${r.sessionId}`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

/** `rate limit (429 …): waiting 2m 5s, until 2026-11-24T03:10:00.000Z` */
export function describeWait(task: string, until: string, limit: AgentLimit, now = Date.now()): string {
  const left = Math.max(0, Date.parse(until) - now);
  return `[${task}] ${limit.kind} limit: waiting ${formatDuration(left)}, until ${until}, then continuing the session`;
}
