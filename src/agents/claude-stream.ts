/**
 * Claude Code's `--output-format stream-json --verbose` output, read record by record into what orc keeps of an
 * attempt. Handled records (docs/agents.md): `system/init` (session, model), `system/api_retry` (last API error),
 * `system/permission_denied`, `assistant` (text, tool_use, its `error`), `user` (tool_result: failed or not),
 * `rate_limit_event`, and `result` (is_error, api_error_status, cost, usage, turns, session, denials, final text).
 * Everything else (thinking blocks, hooks, compaction, partial stream events) is ignored.
 */
import type { AgentTokens, AgentToolCall } from "../core/events.js";
import { arr, num, obj, str, type Json } from "./json-lines.js";

/** Tool calls kept per attempt; a runaway agent must not grow the ledger without bound. */
export const MAX_TOOL_CALLS = 500;

/** Assistant messages kept per attempt, and characters kept of each. */
export const MAX_MESSAGES = 20;
export const MAX_MESSAGE_CHARS = 2000;

/** Appends a message, keeping the last MAX_MESSAGES, each at most MAX_MESSAGE_CHARS. */
export function keepMessage(messages: string[], text: string): void {
  messages.push(text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text);
  if (messages.length > MAX_MESSAGES) messages.shift();
}

/** The input fields that name the file a tool works on, by tool family. */
const PATH_KEYS = ["file_path", "notebook_path", "path"] as const;

export interface ClaudeResult {
  readonly isError: boolean;
  readonly apiErrorStatus?: number;
  readonly apiErrorType?: string;
  readonly costUsd?: number;
  readonly tokens?: AgentTokens;
  readonly turns?: number;
  readonly text?: string;
  readonly subtype?: string;
}

export function toolCallFrom(name: string, input: Json | undefined): AgentToolCall {
  const filePath = PATH_KEYS.map((k) => str(input?.[k])).find((p) => p !== undefined);
  const command = str(input?.command);
  return { name, ...(filePath === undefined ? {} : { filePath }), ...(command === undefined ? {} : { command: command.slice(0, 500) }) };
}

export function tokensFrom(usage: Json | undefined): AgentTokens | undefined {
  if (usage === undefined) return undefined;
  return {
    input: num(usage.input_tokens) ?? 0,
    output: num(usage.output_tokens) ?? 0,
    cacheRead: num(usage.cache_read_input_tokens) ?? 0,
    cacheWrite: num(usage.cache_creation_input_tokens) ?? 0,
  };
}

export class ClaudeStream {
  sessionId: string | undefined;
  model: string | undefined;
  lastAssistantText: string | undefined;
  /** The `error` of the last assistant message (`rate_limit`, `authentication_failed`, …). */
  assistantError: string | undefined;
  /** HTTP status of the last API error the CLI retried. */
  retriedStatus: number | undefined;
  /** Reset time from a `rate_limit_event` (epoch seconds). */
  resetEpochSeconds: number | undefined;
  result: ClaudeResult | undefined;
  readonly toolCalls: AgentToolCall[] = [];
  readonly denials: AgentToolCall[] = [];
  readonly messages: string[] = [];
  private readonly byId = new Map<string, number>();
  private readonly deniedIds = new Set<string>();

  constructor(private readonly onSession: (sessionId: string) => void = () => undefined) {}

  record(r: Json): void {
    const session = str(r.session_id);
    if (session !== undefined && session !== this.sessionId) {
      this.sessionId = session;
      this.onSession(session);
    }
    switch (r.type) {
      case "system":
        this.system(r);
        return;
      case "assistant":
        this.assistant(r);
        return;
      case "user":
        this.user(r);
        return;
      case "rate_limit_event": {
        const info = obj(r.rate_limit_info);
        const resets = num(info?.resetsAt);
        if (resets !== undefined && str(info?.status) !== "allowed") this.resetEpochSeconds = resets;
        return;
      }
      case "result":
        this.finalResult(r);
        return;
      default:
        return;
    }
  }

  private system(r: Json): void {
    switch (r.subtype) {
      case "init":
        this.model = str(r.model) ?? this.model;
        return;
      case "api_retry":
        this.retriedStatus = num(r.error_status) ?? this.retriedStatus;
        return;
      case "permission_denied":
        this.deny(str(r.tool_use_id), str(r.tool_name) ?? "?", undefined);
        return;
      default:
        return;
    }
  }

  private assistant(r: Json): void {
    const message = obj(r.message);
    this.assistantError = str(r.error) ?? this.assistantError;
    for (const block of arr(message?.content)) {
      const b = obj(block);
      if (b?.type === "text") {
        const text = str(b.text);
        if (text !== undefined && text.trim() !== "") {
          this.lastAssistantText = text;
          keepMessage(this.messages, text);
        }
      } else if (b?.type === "tool_use" && this.toolCalls.length < MAX_TOOL_CALLS) {
        const id = str(b.id);
        if (id !== undefined) this.byId.set(id, this.toolCalls.length);
        this.toolCalls.push(toolCallFrom(str(b.name) ?? "?", obj(b.input)));
      }
    }
  }

  private user(r: Json): void {
    for (const block of arr(obj(r.message)?.content)) {
      const b = obj(block);
      if (b?.type !== "tool_result" || b.is_error !== true) continue;
      const index = this.byId.get(str(b.tool_use_id) ?? "");
      const call = index === undefined ? undefined : this.toolCalls[index];
      if (index !== undefined && call !== undefined) this.toolCalls[index] = { ...call, failed: true };
    }
  }

  private finalResult(r: Json): void {
    for (const d of arr(r.permission_denials)) {
      const denial = obj(d);
      if (denial !== undefined) this.deny(str(denial.tool_use_id), str(denial.tool_name) ?? "?", obj(denial.tool_input));
    }
    const apiErrorStatus = num(r.api_error_status);
    const apiErrorType = str(r.api_error_type);
    const costUsd = num(r.total_cost_usd);
    const tokens = tokensFrom(obj(r.usage));
    const turns = num(r.num_turns);
    const text = str(r.result);
    const subtype = str(r.subtype);
    this.result = {
      isError: r.is_error === true,
      ...(apiErrorStatus === undefined ? {} : { apiErrorStatus }),
      ...(apiErrorType === undefined ? {} : { apiErrorType }),
      ...(costUsd === undefined ? {} : { costUsd }),
      ...(tokens === undefined ? {} : { tokens }),
      ...(turns === undefined ? {} : { turns }),
      ...(text === undefined ? {} : { text }),
      ...(subtype === undefined ? {} : { subtype }),
    };
  }

  /** A denial is reported twice (the system record as it happens, then the result's list): keep it once. */
  private deny(id: string | undefined, name: string, input: Json | undefined): void {
    if (id !== undefined) {
      if (this.deniedIds.has(id)) return;
      this.deniedIds.add(id);
    }
    this.denials.push(toolCallFrom(name, input ?? this.inputOf(id)));
  }

  private inputOf(id: string | undefined): Json | undefined {
    const index = id === undefined ? undefined : this.byId.get(id);
    const call = index === undefined ? undefined : this.toolCalls[index];
    return call === undefined ? undefined : { file_path: call.filePath, command: call.command };
  }
}
