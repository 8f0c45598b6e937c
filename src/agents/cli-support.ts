/**
 * What every coding-agent CLI adapter (claude-code, codex, qwen-code, opencode, aider) shares: which executable to
 * start, the child's environment, and the outcome fields that come from the process rather than from its output.
 */
import type { AgentOutcome } from "../core/events.js";
import type { ProcessOutcome } from "../transports/port.js";
import { errorFor } from "./command.js";
import { findExecutable } from "./find-executable.js";
import { JsonLines } from "./json-lines.js";
import type { AgentRunInput } from "./port.js";

/**
 * Variables that make a CLI believe it runs nested inside another agent session (Claude Code refuses or changes
 * behaviour under CLAUDECODE); orc starts each agent as a top-level session.
 */
const NESTING_VARIABLES = ["CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SSE_PORT"];

/**
 * The executable: `agent.run` when given (a path or a name; never a shell line for these kinds), else the CLI's name,
 * looked up on PATH and then in `node_modules/.bin` of the current directory and of the workspace. A CLI found
 * nowhere is started by name anyway, so the spawn error names what is missing.
 */
export function executableFor(input: AgentRunInput, defaultName: string): string {
  const run = input.spec.run?.trim();
  const name = run === undefined || run === "" ? defaultName : run;
  return findExecutable(name, input.env, [process.cwd(), input.workspace]) ?? name;
}

/** orc's base environment without nesting markers, then `agent.env`, then ORC_* (which neither may override). */
export function agentEnv(input: AgentRunInput, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = { ...input.env, ...extra, ...input.spec.env };
  for (const name of NESTING_VARIABLES) Reflect.deleteProperty(env, name);
  return {
    ...env,
    // Some CLIs (OpenCode) take their project directory from PWD, not from the process's real cwd.
    PWD: input.workspace,
    ORC_RUN_ID: input.runId,
    ORC_TASK_ID: input.taskId,
    ORC_ATTEMPT: String(input.attempt),
    ORC_WORKSPACE: input.workspace,
    ORC_PROMPT_FILE: input.promptFile,
  };
}

/** The process half of an AgentOutcome: exit, timing, tails and the supervisor's own error, if any. */
export function processFields(outcome: ProcessOutcome, input: AgentRunInput): AgentOutcome {
  const error = errorFor(outcome, input.spec.timeoutMs, input.spec.inactivityTimeoutMs);
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    end: outcome.end,
    durationMs: outcome.durationMs,
    outputTail: outcome.outputTail,
    claims: "",
    ...(error === undefined ? {} : { error }),
  };
}

/** `{key: value}` when the value is there, else nothing (optional fields are absent, never undefined). */
export function field<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Adds `flag value` for a defined value, `flag v1 v2 …` for a non-empty list. */
export function flag(args: string[], name: string, value: string | number | readonly string[] | undefined): void {
  if (value === undefined) return;
  if (typeof value === "string" || typeof value === "number") {
    args.push(name, String(value));
    return;
  }
  if (value.length > 0) args.push(name, ...value);
}

/**
 * Runs a coding-agent CLI that prints one JSON record per line, handing each record to `onRecord` as it arrives
 * (so a session id is known before the process ends). Every JSON-streaming adapter goes through here.
 */
export async function runJsonLinesCli(
  input: AgentRunInput,
  cli: { readonly executable: string; readonly args: readonly string[]; readonly onRecord: (record: Readonly<Record<string, unknown>>) => void },
): Promise<ProcessOutcome> {
  const lines = new JsonLines(cli.onRecord);
  const outcome = await input.transport.run({
    command: executableFor(input, cli.executable),
    args: cli.args,
    cwd: input.workspace,
    env: agentEnv(input),
    timeoutMs: input.spec.timeoutMs,
    inactivityTimeoutMs: input.spec.inactivityTimeoutMs,
    signal: input.signal,
    ...(input.onSpawn === undefined ? {} : { onSpawn: input.onSpawn }),
    onStdout: (chunk) => {
      lines.push(chunk);
    },
  });
  lines.end();
  return outcome;
}
