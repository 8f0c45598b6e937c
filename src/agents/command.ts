/**
 * The `command` agent: any program that reads a prompt on stdin and edits files in its working directory.
 * `agent.run` is a command line run by `/bin/sh -c` in the workspace; the prompt arrives on stdin and, for programs
 * that want a path, in the file named by ORC_PROMPT_FILE.
 */
import type { AgentOutcome } from "../core/events.js";
import { formatDuration } from "../core/duration.js";
import type { ProcessOutcome } from "../transports/port.js";
import type { AgentPlugin, AgentRunInput } from "./port.js";

/** How much of the end of stdout is kept as the agent's claims (its final message). */
export const CLAIMS_CHARS = 2000;

/** A configured limit the way a user writes it: `500ms`, `10s`, `1m30s`, `2h`; fractions fall back to `1.5s`. */
export function formatLimit(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return formatDuration(ms);
  const s = ms / 1000;
  const parts = [[Math.floor(s / 3600), "h"], [Math.floor((s % 3600) / 60), "m"], [s % 60, "s"]] as const;
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join("");
}

/** The last CLAIMS_CHARS characters of stdout, trimmed, never starting with half a surrogate pair. */
export function claimsFrom(stdout: string): string {
  let tail = stdout.slice(-CLAIMS_CHARS);
  const first = tail.charCodeAt(0);
  if (first >= 0xdc00 && first <= 0xdfff) tail = tail.slice(1);
  return tail.trim();
}

export function errorFor(outcome: ProcessOutcome, timeoutMs: number, inactivityMs: number): string | undefined {
  switch (outcome.end) {
    case "spawn-error":
      return `the agent could not be started: ${outcome.error ?? "unknown error"}`;
    case "timeout":
      return `timed out after ${formatLimit(timeoutMs)} (agent timeout)`;
    case "stalled":
      return `no output for ${formatLimit(inactivityMs)} (inactivity timeout)`;
    case "cancelled":
      return "cancelled";
    case "transport-lost":
      return `the transport went away under the agent: ${outcome.error ?? "unknown error"}`;
    case "exited":
      return outcome.signal === null ? undefined : `the agent was killed by ${outcome.signal}`;
  }
}

export const commandAgent: AgentPlugin = {
  kind: "command",

  async run(input: AgentRunInput): Promise<AgentOutcome> {
    const { spec } = input;
    if (spec.run === undefined || spec.run.trim() === "") {
      return {
        exitCode: null,
        signal: null,
        end: "spawn-error",
        durationMs: 0,
        outputTail: "",
        claims: "",
        error: "the command agent needs `agent.run`, the command line to run",
      };
    }
    const outcome = await input.transport.run({
      command: spec.run,
      shell: true,
      cwd: input.workspace,
      // ORC_* last: the agent may rely on them, so neither the base env nor agent.env can override them.
      env: {
        ...input.env,
        ...spec.env,
        ORC_RUN_ID: input.runId,
        ORC_TASK_ID: input.taskId,
        ORC_ATTEMPT: String(input.attempt),
        ORC_WORKSPACE: input.workspace,
        ORC_PROMPT_FILE: input.promptFile,
      },
      stdin: input.prompt,
      timeoutMs: spec.timeoutMs,
      inactivityTimeoutMs: spec.inactivityTimeoutMs,
      signal: input.signal,
      ...(input.onSpawn === undefined ? {} : { onSpawn: input.onSpawn }),
    });
    const error = errorFor(outcome, spec.timeoutMs, spec.inactivityTimeoutMs);
    return {
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      end: outcome.end,
      durationMs: outcome.durationMs,
      outputTail: outcome.outputTail,
      claims: claimsFrom(outcome.stdoutTail),
      ...(error === undefined ? {} : { error }),
    };
  },
};
