/**
 * The `claude-code` agent: Anthropic's Claude Code CLI in print mode, `claude -p --output-format stream-json
 * --verbose`, its stream parsed line by line as it arrives (claude-stream.ts). stdin is ignored (an open stdin
 * stalls the CLI), the prompt is the last argument after `--`, and a retry continues the session with `--resume`.
 * The run is judged by `is_error`, the permission denials and the exit code, never by the result's `subtype`
 * (a blocked write and an API error both end `subtype: "success"`).
 */
import type { AgentOutcome } from "../core/events.js";
import { ClaudeStream } from "./claude-stream.js";
import { field, flag, processFields, runJsonLinesCli } from "./cli-support.js";
import { claimsFrom } from "./command.js";
import { classifyLimit } from "./limits.js";
import type { AgentPlugin, AgentRunInput } from "./port.js";

export const DEFAULT_PERMISSION_MODE = "acceptEdits";

/** The command line after the executable; exported so docs and tests can show exactly what runs. */
export function claudeArgs(input: AgentRunInput): string[] {
  const { spec } = input;
  const args = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", spec.permissionMode ?? DEFAULT_PERMISSION_MODE];
  flag(args, "--model", spec.model);
  flag(args, "--allowedTools", spec.allowedTools);
  flag(args, "--disallowedTools", spec.disallowedTools);
  flag(args, "--max-turns", spec.maxTurns);
  flag(args, "--max-budget-usd", spec.maxBudgetUsd);
  flag(args, "--append-system-prompt", spec.appendSystemPrompt);
  flag(args, "--mcp-config", spec.mcpConfig);
  flag(args, "--add-dir", spec.addDirs);
  flag(args, "--resume", input.previousSessionId);
  args.push(...(spec.args ?? []));
  // `--` ends the options: a prompt that starts with "-" is still the prompt.
  args.push("--", input.prompt);
  return args;
}

export function outcomeFrom(stream: ClaudeStream, base: AgentOutcome, stderrTail: string): AgentOutcome {
  const r = stream.result;
  // Exit 0 without a result line is not a success: the stream was cut short.
  const missingResult = r === undefined && base.end === "exited";
  const isError = r?.isError === true || missingResult;
  const failed = isError || (base.end === "exited" && base.exitCode !== 0);
  const message = r?.text ?? stream.lastAssistantText ?? claimsFrom(stderrTail);
  const status = r?.apiErrorStatus ?? (failed ? stream.retriedStatus : undefined);
  const limit = failed
    ? classifyLimit({
        message,
        ...field("status", status),
        ...field("errorType", r?.apiErrorType ?? stream.assistantError),
        ...field("resetEpochSeconds", stream.resetEpochSeconds),
      })
    : undefined;
  const error =
    base.error ??
    (missingResult
      ? "the agent exited without a final result"
      : isError
        ? `the agent reported an error${status === undefined ? "" : ` (API ${status})`}: ${message.slice(0, 300)}`
        : undefined);
  const tools = stream.toolCalls;
  return {
    ...base,
    claims: r?.text ?? stream.lastAssistantText ?? "",
    ...field("error", error),
    ...field("sessionId", stream.sessionId),
    ...field("model", stream.model),
    ...field("costUsd", r?.costUsd),
    ...field("tokens", r?.tokens),
    ...field("turns", r?.turns),
    ...(tools.length > 0 ? { toolCalls: [...tools] } : {}),
    ...(stream.messages.length > 0 ? { messages: [...stream.messages] } : {}),
    ...(stream.denials.length > 0 ? { permissionDenials: [...stream.denials] } : {}),
    ...(r !== undefined || missingResult ? { isError } : {}),
    ...field("apiErrorStatus", status),
    ...field("limit", limit),
  };
}

export const claudeCodeAgent: AgentPlugin = {
  kind: "claude-code",
  sessions: true,

  async run(input: AgentRunInput): Promise<AgentOutcome> {
    const stream = new ClaudeStream((id) => input.onSession?.(id));
    const outcome = await runJsonLinesCli(input, {
      executable: "claude",
      args: claudeArgs(input),
      onRecord: (record) => {
        stream.record(record);
      },
    });
    return outcomeFrom(stream, processFields(outcome, input), outcome.stderrTail);
  },
};
