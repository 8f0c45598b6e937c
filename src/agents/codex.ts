/**
 * The `codex` agent: OpenAI's Codex CLI, `codex exec --json`, one event per line. Handled events (docs/agents.md):
 * `thread.started` (the session), `turn.completed` (usage; one per turn), `turn.failed` and `error` (the run failed),
 * and completed items: `agent_message` (the last one is the claims), `command_execution`, `file_change` (one tool
 * call per changed path) and `mcp_tool_call`. Codex reports no cost. A retry continues the thread with
 * `codex exec resume THREAD_ID`. Built from Codex's documentation: the CLI is not installed on orc's test machines.
 */
import type { AgentOutcome, AgentTokens, AgentToolCall } from "../core/events.js";
import type { PermissionMode } from "../core/pipeline.js";
import { keepMessage, MAX_TOOL_CALLS } from "./claude-stream.js";
import { field, flag, processFields, runJsonLinesCli } from "./cli-support.js";
import { arr, num, obj, str, type Json } from "./json-lines.js";
import { classifyLimit } from "./limits.js";
import type { AgentPlugin, AgentRunInput } from "./port.js";

/** orc's permission modes in Codex's terms: exec never asks, so the sandbox is the permission. */
function sandboxArgs(mode: PermissionMode | undefined): string[] {
  switch (mode ?? "acceptEdits") {
    case "bypassPermissions":
      return ["--dangerously-bypass-approvals-and-sandbox"];
    case "plan":
    case "default":
      return ["--sandbox", "read-only"];
    case "acceptEdits":
    case "dontAsk":
      return ["--sandbox", "workspace-write"];
  }
}

export function codexArgs(input: AgentRunInput): string[] {
  const { spec } = input;
  const args = ["exec", "--json", "--skip-git-repo-check", ...sandboxArgs(spec.permissionMode)];
  flag(args, "--model", spec.model);
  for (const dir of spec.addDirs ?? []) args.push("--add-dir", dir);
  args.push(...(spec.args ?? []));
  if (input.previousSessionId !== undefined) args.push("resume", input.previousSessionId);
  args.push("--", input.prompt);
  return args;
}

export class CodexStream {
  sessionId: string | undefined;
  lastMessage: string | undefined;
  turns = 0;
  tokens: AgentTokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  error: string | undefined;
  readonly toolCalls: AgentToolCall[] = [];
  readonly messages: string[] = [];

  constructor(private readonly onSession: (id: string) => void = () => undefined) {}

  record(r: Json): void {
    switch (r.type) {
      case "thread.started": {
        const id = str(r.thread_id);
        if (id !== undefined && id !== this.sessionId) {
          this.sessionId = id;
          this.onSession(id);
        }
        return;
      }
      case "turn.completed": {
        this.turns += 1;
        const u = obj(r.usage);
        this.tokens = {
          input: this.tokens.input + (num(u?.input_tokens) ?? 0),
          output: this.tokens.output + (num(u?.output_tokens) ?? 0),
          cacheRead: this.tokens.cacheRead + (num(u?.cached_input_tokens) ?? 0),
          cacheWrite: this.tokens.cacheWrite,
        };
        return;
      }
      case "turn.failed":
        this.error = str(obj(r.error)?.message) ?? "turn failed";
        return;
      case "error":
        this.error = str(r.message) ?? "error";
        return;
      case "item.completed":
        this.item(obj(r.item));
        return;
      default:
        return;
    }
  }

  private item(item: Json | undefined): void {
    const push = (call: AgentToolCall): void => {
      if (this.toolCalls.length < MAX_TOOL_CALLS) this.toolCalls.push(call);
    };
    switch (item?.type) {
      case "agent_message": {
        const text = str(item.text);
        if (text !== undefined && text.trim() !== "") {
          this.lastMessage = text;
          keepMessage(this.messages, text);
        }
        return;
      }
      case "command_execution": {
        const command = str(item.command) ?? "";
        const failed = str(item.status) === "failed" || (num(item.exit_code) ?? 0) !== 0;
        push({ name: "command", command: command.slice(0, 500), ...(failed ? { failed } : {}) });
        return;
      }
      case "file_change":
        for (const change of arr(item.changes)) {
          const path = str(obj(change)?.path);
          push({ name: `file_change:${str(obj(change)?.kind) ?? "update"}`, ...(path === undefined ? {} : { filePath: path }) });
        }
        return;
      case "mcp_tool_call":
        push({ name: `mcp:${str(item.server) ?? "?"}/${str(item.tool) ?? "?"}`, ...(str(item.status) === "failed" ? { failed: true } : {}) });
        return;
      default:
        return;
    }
  }
}

export function codexOutcome(stream: CodexStream, base: AgentOutcome): AgentOutcome {
  const status = stream.error === undefined ? undefined : Number(/\b(4\d\d|5\d\d)\b/.exec(stream.error)?.[1] ?? Number.NaN);
  const apiErrorStatus = status !== undefined && Number.isFinite(status) ? status : undefined;
  const limit = stream.error === undefined ? undefined : classifyLimit({ message: stream.error, ...field("status", apiErrorStatus) });
  return {
    ...base,
    claims: stream.lastMessage ?? "",
    ...field("error", base.error ?? (stream.error === undefined ? undefined : `the agent reported an error: ${stream.error.slice(0, 300)}`)),
    ...field("sessionId", stream.sessionId),
    ...(stream.turns > 0 ? { tokens: stream.tokens, turns: stream.turns } : {}),
    ...(stream.toolCalls.length > 0 ? { toolCalls: [...stream.toolCalls] } : {}),
    ...(stream.messages.length > 0 ? { messages: [...stream.messages] } : {}),
    ...(base.end === "exited" ? { isError: stream.error !== undefined } : {}),
    ...field("apiErrorStatus", apiErrorStatus),
    ...field("limit", limit),
  };
}

export const codexAgent: AgentPlugin = {
  kind: "codex",
  sessions: true,

  async run(input: AgentRunInput): Promise<AgentOutcome> {
    const stream = new CodexStream((id) => input.onSession?.(id));
    const outcome = await runJsonLinesCli(input, {
      executable: "codex",
      args: codexArgs(input),
      onRecord: (record) => {
        stream.record(record);
      },
    });
    return codexOutcome(stream, processFields(outcome, input));
  },
};
