/**
 * The `opencode` agent: `opencode run --format json`, one JSON event per line. Handled events (docs/agents.md):
 * `step_start`, `step_finish` (tokens, cost; one per model round trip, counted as turns), `text` (the last one is the
 * claims), `tool_use` (tool, input file path, completed or error; an error that names a permission is a denial) and
 * `error` (APIError with its status code). The provider and its credentials are OpenCode's own configuration
 * (opencode.json, OPENCODE_CONFIG_CONTENT); orc passes `model` as `provider/model`. A retry continues the session
 * with `--session`. OpenCode retries 429s by itself without printing anything: the inactivity watchdog bounds that.
 */
import type { AgentOutcome, AgentTokens, AgentToolCall } from "../core/events.js";
import { keepMessage, MAX_TOOL_CALLS } from "./claude-stream.js";
import { field, flag, processFields, runJsonLinesCli } from "./cli-support.js";
import { num, obj, str, type Json } from "./json-lines.js";
import { classifyLimit } from "./limits.js";
import type { AgentPlugin, AgentRunInput } from "./port.js";

const DENIED = /permission|denied|rejected|not allowed/i;

export function opencodeArgs(input: AgentRunInput): string[] {
  const { spec } = input;
  const args = ["run", "--format", "json"];
  flag(args, "--model", spec.model);
  flag(args, "--session", input.previousSessionId);
  if (spec.permissionMode === "bypassPermissions") args.push("--auto");
  args.push(...(spec.args ?? []));
  args.push("--", input.prompt);
  return args;
}

export class OpencodeStream {
  sessionId: string | undefined;
  lastText: string | undefined;
  steps = 0;
  costUsd = 0;
  sawCost = false;
  tokens: AgentTokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  error: { message: string; status?: number } | undefined;
  readonly toolCalls: AgentToolCall[] = [];
  readonly denials: AgentToolCall[] = [];
  readonly messages: string[] = [];

  constructor(private readonly onSession: (id: string) => void = () => undefined) {}

  record(r: Json): void {
    const session = str(r.sessionID);
    if (session !== undefined && session !== this.sessionId) {
      this.sessionId = session;
      this.onSession(session);
    }
    const part = obj(r.part);
    switch (r.type) {
      case "text": {
        const text = str(part?.text);
        if (text !== undefined && text.trim() !== "") {
          this.lastText = text;
          keepMessage(this.messages, text);
        }
        return;
      }
      case "tool_use":
        this.tool(part);
        return;
      case "step_finish":
        this.finishStep(part);
        return;
      case "error": {
        const e = obj(r.error);
        const data = obj(e?.data);
        const status = num(data?.statusCode);
        this.error = { message: str(data?.message) ?? str(e?.name) ?? "error", ...(status === undefined ? {} : { status }) };
        return;
      }
      default:
        return;
    }
  }

  private tool(part: Json | undefined): void {
    const state = obj(part?.state);
    const input = obj(state?.input);
    const filePath = str(input?.filePath) ?? str(input?.path);
    const command = str(input?.command);
    const failed = str(state?.status) === "error";
    const call: AgentToolCall = {
      name: str(part?.tool) ?? "?",
      ...(filePath === undefined ? {} : { filePath }),
      ...(command === undefined ? {} : { command: command.slice(0, 500) }),
      ...(failed ? { failed } : {}),
    };
    if (this.toolCalls.length < MAX_TOOL_CALLS) this.toolCalls.push(call);
    if (failed && DENIED.test(str(state?.error) ?? "")) this.denials.push(call);
  }

  private finishStep(part: Json | undefined): void {
    this.steps += 1;
    const cost = num(part?.cost);
    if (cost !== undefined) {
      this.costUsd += cost;
      this.sawCost = true;
    }
    const t = obj(part?.tokens);
    const cache = obj(t?.cache);
    this.tokens = {
      input: this.tokens.input + (num(t?.input) ?? 0),
      output: this.tokens.output + (num(t?.output) ?? 0) + (num(t?.reasoning) ?? 0),
      cacheRead: this.tokens.cacheRead + (num(cache?.read) ?? 0),
      cacheWrite: this.tokens.cacheWrite + (num(cache?.write) ?? 0),
    };
  }
}

export function opencodeOutcome(stream: OpencodeStream, base: AgentOutcome): AgentOutcome {
  const err = stream.error;
  const limit = err === undefined ? undefined : classifyLimit({ message: err.message, ...field("status", err.status) });
  const error = base.error ?? (err === undefined ? undefined : `the agent reported an error${err.status === undefined ? "" : ` (API ${err.status})`}: ${err.message.slice(0, 300)}`);
  return {
    ...base,
    claims: stream.lastText ?? "",
    ...field("error", error),
    ...field("sessionId", stream.sessionId),
    ...(stream.sawCost ? { costUsd: stream.costUsd } : {}),
    ...(stream.steps > 0 ? { tokens: stream.tokens, turns: stream.steps } : {}),
    ...(stream.toolCalls.length > 0 ? { toolCalls: [...stream.toolCalls] } : {}),
    ...(stream.messages.length > 0 ? { messages: [...stream.messages] } : {}),
    ...(stream.denials.length > 0 ? { permissionDenials: [...stream.denials] } : {}),
    ...(base.end === "exited" ? { isError: err !== undefined } : {}),
    ...field("apiErrorStatus", err?.status),
    ...field("limit", limit),
  };
}

export const opencodeAgent: AgentPlugin = {
  kind: "opencode",
  sessions: true,

  async run(input: AgentRunInput): Promise<AgentOutcome> {
    const stream = new OpencodeStream((id) => input.onSession?.(id));
    const outcome = await runJsonLinesCli(input, {
      executable: "opencode",
      args: opencodeArgs(input),
      onRecord: (record) => {
        stream.record(record);
      },
    });
    return opencodeOutcome(stream, processFields(outcome, input));
  },
};
