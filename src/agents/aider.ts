/**
 * The `aider` agent: `aider --message=PROMPT --yes-always --no-auto-commits …`, built from Aider's documented options
 * (aider.chat/docs/config/options.html); Aider is a Python package the test machines cannot install, so its tests
 * run a stand-in executable. Aider prints text, not JSON; orc reads three kinds of line from it: `Applied edit to
 * FILE` (a tool call), `Tokens: 4.2k sent, 312 received. Cost: $0.02 message, …` (usage and cost), and
 * `litellm.…Error: …` (a model API error, rate limits included). orc never commits: commits stay the user's call and
 * orc's checkpoints track the changes. Aider has no session ids: its chat history file (kept in the run's
 * scratch directory, not in the workspace nor among the read-only prompt files) is the session, and a retry restores it (`--restore-chat-history`).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentOutcome, AgentToolCall } from "../core/events.js";
import { MAX_TOOL_CALLS } from "./claude-stream.js";
import { agentEnv, executableFor, field, flag, processFields } from "./cli-support.js";
import { claimsFrom } from "./command.js";
import { classifyLimit } from "./limits.js";
import type { AgentPlugin, AgentRunInput } from "./port.js";

export function aiderHistoryFile(input: AgentRunInput): string {
  return join(input.scratchDir, `aider-${input.taskId}.chat.md`);
}

export function aiderArgs(input: AgentRunInput): string[] {
  const { spec } = input;
  const history = input.previousSessionId ?? aiderHistoryFile(input);
  const args = [
    "--yes-always",
    "--no-auto-commits",
    "--no-dirty-commits",
    "--no-gitignore",
    "--no-pretty",
    "--no-stream",
    "--no-check-update",
    "--no-show-release-notes",
    "--analytics-disable",
    "--chat-history-file",
    history,
    "--input-history-file",
    join(dirname(history), `aider-${input.taskId}.input.md`),
  ];
  // Without a repository Aider offers to create one, and --yes-always would accept: never touch the user's VCS.
  if (!existsSync(join(input.workspace, ".git"))) args.push("--no-git");
  if (input.previousSessionId !== undefined) args.push("--restore-chat-history");
  flag(args, "--model", spec.model);
  for (const dir of spec.addDirs ?? []) args.push("--read", dir);
  args.push(...(spec.args ?? []));
  args.push(`--message=${input.prompt}`);
  return args;
}

const EDIT = /^Applied edit to (.+?)\s*$/;
const TOKENS = /^Tokens: ([\d.]+)(k?) sent(?:, ([\d.]+)(k?) cache write)?(?:, ([\d.]+)(k?) cache hit)?, ([\d.]+)(k?) received\.(?: Cost: \$([\d.]+) message)?/;
const API_ERROR = /^(?:litellm\.)?(\w*(?:Error|Exception)): (.*)$/;

function count(n: string | undefined, k: string | undefined): number {
  return n === undefined ? 0 : Math.round(Number(n) * (k === "k" ? 1000 : 1));
}

/** What Aider's plain output says; exported for tests of the parser. */
export function readAiderOutput(stdout: string): Pick<AgentOutcome, "toolCalls" | "tokens" | "costUsd" | "turns"> & { error?: string } {
  const calls: AgentToolCall[] = [];
  let input = 0;
  let output = 0;
  let cacheRead = 0;
  let cacheWrite = 0;
  let cost: number | undefined;
  let turns = 0;
  let error: string | undefined;
  for (const line of stdout.split("\n")) {
    const edit = EDIT.exec(line);
    if (edit?.[1] !== undefined && calls.length < MAX_TOOL_CALLS) calls.push({ name: "edit", filePath: edit[1] });
    const t = TOKENS.exec(line);
    if (t !== null) {
      turns += 1;
      input += count(t[1], t[2]);
      cacheWrite += count(t[3], t[4]);
      cacheRead += count(t[5], t[6]);
      output += count(t[7], t[8]);
      if (t[9] !== undefined) cost = (cost ?? 0) + Number(t[9]);
    }
    const e = API_ERROR.exec(line.trim());
    if (e?.[1] !== undefined && /litellm|RateLimit|Authentication|APIError|APIConnection|ServiceUnavailable|Overloaded/i.test(line)) error = `${e[1]}: ${e[2] ?? ""}`;
  }
  return {
    ...(calls.length > 0 ? { toolCalls: calls } : {}),
    ...(turns > 0 ? { tokens: { input, output, cacheRead, cacheWrite }, turns } : {}),
    ...field("costUsd", cost),
    ...field("error", error),
  };
}

export const aiderAgent: AgentPlugin = {
  kind: "aider",
  sessions: true,

  async run(input: AgentRunInput): Promise<AgentOutcome> {
    const history = input.previousSessionId ?? aiderHistoryFile(input);
    const outcome = await input.transport.run({
      command: executableFor(input, "aider"),
      args: aiderArgs(input),
      cwd: input.workspace,
      env: agentEnv(input),
      timeoutMs: input.spec.timeoutMs,
      inactivityTimeoutMs: input.spec.inactivityTimeoutMs,
      signal: input.signal,
      ...(input.onSpawn === undefined ? {} : { onSpawn: input.onSpawn }),
    });
    const base = processFields(outcome, input);
    const read = readAiderOutput(outcome.stdoutTail);
    const { error: apiError, ...usage } = read;
    const status = apiError === undefined ? undefined : /AuthenticationError/.test(apiError) ? 401 : /RateLimitError/.test(apiError) ? 429 : undefined;
    const limit = apiError === undefined ? undefined : classifyLimit({ message: apiError, ...field("status", status) });
    return {
      ...base,
      claims: claimsFrom(outcome.stdoutTail),
      ...usage,
      ...field("error", base.error ?? (apiError === undefined ? undefined : `the agent reported an error: ${apiError.slice(0, 300)}`)),
      sessionId: history,
      ...(base.end === "exited" ? { isError: apiError !== undefined } : {}),
      ...field("apiErrorStatus", status),
      ...field("limit", limit),
    };
  },
};
