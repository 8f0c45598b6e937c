import { VERDICT_LIMITS, VERDICTS } from "../config/schema/verdict-limits.js";
import type { JudgeVerdict } from "../core/events.js";
import { err, ok, type Result } from "../core/result.js";

/**
 * Parses and re-validates a judge's answer. The grammar guarantees the JSON shape, not the ranges (a model can write
 * `"confidence": 9`), and a server provider may not enforce the schema at all: everything is checked here again.
 */
export function parseVerdict(text: string): Result<Omit<JudgeVerdict, "calls" | "cached">, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err(`malformed verdict (not JSON): ${text.slice(0, 120)}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return err("malformed verdict (not an object)");
  const v = value as Record<string, unknown>;
  const verdict = v.verdict;
  if (typeof verdict !== "string" || !(VERDICTS as readonly string[]).includes(verdict)) {
    return err(`verdict must be one of ${VERDICTS.join(", ")}, got ${shown(verdict)}`);
  }
  const confidence = v.confidence;
  if (typeof confidence !== "number" || !Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    return err(`confidence must be a number from 0 to 1, got ${shown(confidence)}`);
  }
  const issues = stringList(v.issues, "issues");
  if (!issues.ok) return issues;
  const contradicted = stringList(v.contradicted_claims, "contradicted_claims");
  if (!contradicted.ok) return contradicted;
  const followUp = v.follow_up;
  if (typeof followUp !== "string" || followUp.length > VERDICT_LIMITS.followUpChars) {
    return err(`follow_up must be a string of at most ${String(VERDICT_LIMITS.followUpChars)} characters`);
  }
  const trimmed = followUp.trim();
  return ok({
    verdict: verdict as JudgeVerdict["verdict"],
    confidence,
    issues: issues.value,
    contradictedClaims: contradicted.value,
    ...(trimmed === "" ? {} : { followUp: trimmed }),
    needsHuman: verdict === "needs_human",
  });
}

function stringList(value: unknown, name: string): Result<string[], string> {
  if (!Array.isArray(value) || value.length > VERDICT_LIMITS.items) {
    return err(`${name} must be a list of at most ${String(VERDICT_LIMITS.items)} strings`);
  }
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== "string" || item.length > VERDICT_LIMITS.itemChars) {
      return err(`${name} must hold strings of at most ${String(VERDICT_LIMITS.itemChars)} characters`);
    }
    if (item.trim() !== "") out.push(item.trim());
  }
  return ok(out);
}

function shown(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
