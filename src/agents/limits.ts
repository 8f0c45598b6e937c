/**
 * Rate, usage and overload limits, recognised from what an agent CLI reports (an HTTP status, an error type, or the
 * words of its final message), with the reset time when the message names one. The run loop waits until then and
 * continues the session (src/run/agent-call.ts).
 */
import type { AgentLimit } from "../core/events.js";

export interface LimitSignals {
  readonly status?: number;
  /** e.g. `rate_limit_error`, `overloaded_error`. */
  readonly errorType?: string;
  readonly message: string;
  /** A reset time the CLI reported in a structured field (epoch seconds). */
  readonly resetEpochSeconds?: number;
}

const USAGE_WORDS = /usage limit|limit reached|hit your (?:\w+ )?limit|quota exceeded|insufficient_quota/i;
const RATE_WORDS = /rate.?limit|too many requests/i;
const OVERLOAD_WORDS = /overloaded/i;

/** The limit these signals describe, or undefined when the run failed for another reason (or did not fail). */
export function classifyLimit(signals: LimitSignals, now: Date = new Date()): AgentLimit | undefined {
  const { status, errorType = "", message } = signals;
  const kind: AgentLimit["kind"] | undefined = USAGE_WORDS.test(message)
    ? "usage"
    : status === 529 || OVERLOAD_WORDS.test(errorType) || OVERLOAD_WORDS.test(message)
      ? "overloaded"
      : status === 429 || RATE_WORDS.test(errorType) || RATE_WORDS.test(message)
        ? "rate"
        : undefined;
  if (kind === undefined) return undefined;
  const reset =
    signals.resetEpochSeconds !== undefined ? new Date(signals.resetEpochSeconds * 1000) : parseResetTime(message, now);
  return { kind, message: message.slice(0, 500), ...(reset === undefined ? {} : { resetAt: reset.toISOString() }) };
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

/**
 * The reset time a limit message names, in the forms the CLIs use: `…limit reached|1767225600` (epoch seconds),
 * `resets at 2026-01-01T00:00:00Z`, `try again in 30 seconds`, `resets 3pm` / `resets 3:30pm` (the next such local
 * time). Undefined when none is found.
 */
export function parseResetTime(message: string, now: Date = new Date()): Date | undefined {
  const epoch = /\|\s*(\d{10})\b/.exec(message) ?? /reset[s]?(?:_at| at)?\D{0,3}(\d{10})\b/i.exec(message);
  if (epoch?.[1] !== undefined) return new Date(Number(epoch[1]) * 1000);
  const iso = /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)/.exec(message);
  if (iso?.[1] !== undefined) {
    const at = new Date(iso[1]);
    if (!Number.isNaN(at.getTime())) return at;
  }
  const after = /(?:try again|retry|resets?) (?:in|after) (\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|h)\b/i.exec(message);
  if (after?.[1] !== undefined && after[2] !== undefined) {
    const unit = after[2].toLowerCase().replace(/s$/, "");
    const ms = UNIT_MS[unit] ?? UNIT_MS[after[2].toLowerCase()];
    if (ms !== undefined) return new Date(now.getTime() + Number(after[1]) * ms);
  }
  const clock = /resets? (?:at )?(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b/i.exec(message);
  if (clock?.[1] !== undefined && clock[3] !== undefined) {
    let hour = Number(clock[1]) % 12;
    if (clock[3].toLowerCase() === "pm") hour += 12;
    const at = new Date(now);
    at.setHours(hour, Number(clock[2] ?? 0), 0, 0);
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
    return at;
  }
  return undefined;
}
