/**
 * Tells people a breakpoint opened: a webhook (JSON POST, retried with exponential backoff) and/or a command (run by
 * `sh -c` from orchestrator.yaml, the breakpoint as JSON on stdin and in ORC_BREAKPOINT_* variables: nothing from the
 * agent is ever put into the command line). Failures are results, never exceptions: the breakpoint is in the DB anyway.
 */
import type { NotifySpec } from "../core/pipeline.js";
import type { Transport } from "../transports/port.js";
import type { Notifier, NotifyResult, OpenedEvent } from "./breakpoints.js";

export interface WebhookOptions {
  /** Tries in all (first + retries). */
  readonly tries: number;
  /** Delay before the first retry; doubled each time. */
  readonly backoffMs: number;
  readonly timeoutMs: number;
}

export const WEBHOOK_DEFAULTS: WebhookOptions = { tries: 4, backoffMs: 250, timeoutMs: 5_000 };

export function notificationPayload(event: OpenedEvent): Record<string, unknown> {
  return {
    type: "breakpoint.opened",
    run: event.run,
    breakpoint: event.id,
    task: event.task,
    attempt: event.attempt,
    rule: event.rule,
    message: event.message,
    context: event.context,
    time: event.time,
    resolve: `orc resolve ${event.id} --approve|--reject|--retry [--note TEXT]`,
  };
}

/** The URL without credentials or query (which may hold a token): what a failure message may show. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

export async function postWebhook(url: string, body: unknown, options: WebhookOptions = WEBHOOK_DEFAULTS): Promise<NotifyResult> {
  let last = "";
  for (let attempt = 1; attempt <= options.tries; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "orc" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      // Drain the body so the connection is released.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { channel: "webhook", ok: true, detail: `HTTP ${response.status} after ${attempt} ${attempt === 1 ? "try" : "tries"}` };
      last = `HTTP ${response.status}`;
      // A client error other than 408/429 will not get better by asking again.
      if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
    } catch (error) {
      last = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
    if (attempt < options.tries) await new Promise((r) => setTimeout(r, options.backoffMs * 2 ** (attempt - 1)));
  }
  return { channel: "webhook", ok: false, detail: `${safeUrl(url)}: ${last}` };
}

export async function runNotifyCommand(command: string, event: OpenedEvent, transport: Transport, env: Readonly<Record<string, string>>, cwd: string): Promise<NotifyResult> {
  const outcome = await transport.run({
    command,
    shell: true,
    cwd,
    env: {
      ...env,
      ORC_RUN_ID: event.run,
      ORC_TASK_ID: event.task,
      ORC_BREAKPOINT_ID: event.id,
      ORC_BREAKPOINT_RULE: event.rule,
      ORC_BREAKPOINT_MESSAGE: event.message,
    },
    stdin: `${JSON.stringify(notificationPayload(event))}\n`,
    timeoutMs: 60_000,
    maxOutputBytes: 16 * 1024,
  });
  const ok = outcome.end === "exited" && outcome.exitCode === 0;
  const tail = outcome.outputTail.trim().split("\n").at(-1) ?? "";
  return { channel: "command", ok, detail: ok ? "exit 0" : `${outcome.end === "exited" ? `exit ${outcome.exitCode ?? "?"}` : outcome.end}${tail !== "" ? `: ${tail}` : ""}` };
}

export function makeNotifier(spec: NotifySpec, transport: Transport, env: Readonly<Record<string, string>>, cwd: string, webhook: WebhookOptions = WEBHOOK_DEFAULTS): Notifier | undefined {
  if (spec.webhook === undefined && spec.command === undefined) return undefined;
  return async (event) => {
    const results: NotifyResult[] = [];
    if (spec.webhook !== undefined) results.push(await postWebhook(spec.webhook, notificationPayload(event), webhook));
    if (spec.command !== undefined) results.push(await runNotifyCommand(spec.command, event, transport, env, cwd));
    return results;
  };
}
