/**
 * The `qwen-code` agent: Qwen Code in headless mode, `qwen --output-format stream-json`. Its stream follows Claude
 * Code's record format (system, assistant, user with tool_result, result with is_error and session_id), so the same
 * reader handles it (claude-stream.ts). A retry continues the session with `--resume`. Built from Qwen Code's
 * documentation: the CLI is not installed on orc's test machines.
 */
import type { AgentOutcome } from "../core/events.js";
import type { PermissionMode } from "../core/pipeline.js";
import { outcomeFrom } from "./claude-code.js";
import { ClaudeStream } from "./claude-stream.js";
import { flag, processFields, runJsonLinesCli } from "./cli-support.js";
import type { AgentPlugin, AgentRunInput } from "./port.js";

/** orc's permission modes as Qwen Code's approval modes. */
function approvalMode(mode: PermissionMode | undefined): string {
  switch (mode ?? "acceptEdits") {
    case "acceptEdits":
    case "dontAsk":
      return "auto-edit";
    case "bypassPermissions":
      return "yolo";
    case "plan":
      return "plan";
    case "default":
      return "default";
  }
}

export function qwenArgs(input: AgentRunInput): string[] {
  const { spec } = input;
  const args = ["--output-format", "stream-json", "--approval-mode", approvalMode(spec.permissionMode)];
  flag(args, "--model", spec.model);
  flag(args, "--max-session-turns", spec.maxTurns);
  flag(args, "--append-system-prompt", spec.appendSystemPrompt);
  flag(args, "--allowed-tools", spec.allowedTools);
  flag(args, "--exclude-tools", spec.disallowedTools);
  flag(args, "--include-directories", spec.addDirs === undefined ? undefined : [spec.addDirs.join(",")]);
  flag(args, "--resume", input.previousSessionId);
  args.push(...(spec.args ?? []));
  // `--prompt=TEXT`: one argument, so a prompt that starts with "-" is still the prompt.
  args.push(`--prompt=${input.prompt}`);
  return args;
}

export const qwenCodeAgent: AgentPlugin = {
  kind: "qwen-code",
  sessions: true,

  async run(input: AgentRunInput): Promise<AgentOutcome> {
    const stream = new ClaudeStream((id) => input.onSession?.(id));
    const outcome = await runJsonLinesCli(input, {
      executable: "qwen",
      args: qwenArgs(input),
      onRecord: (record) => {
        stream.record(record);
      },
    });
    return outcomeFrom(stream, processFields(outcome, input), outcome.stderrTail);
  },
};
