import { checkClaims, describeContradiction } from "../core/claims.js";
import type { AgentOutcome, FileChange, GateOutcome } from "../core/events.js";

/** Evidence kept per field in a follow-up prompt; the full output stays in the DB. */
const TAIL_CHARS = 4_000;

/** What a retry prompt knows about the attempt before it. Keys are snake_case: users write them in templates. */
export interface PreviousAttempt {
  readonly attempt: number;
  readonly reasons: readonly string[];
  readonly agent: { readonly exit_code: number | null; readonly end: string; readonly claims: string; readonly output_tail: string } | null;
  readonly gates: readonly {
    readonly id: string;
    readonly passed: boolean;
    readonly summary: string;
    readonly output_tail: string;
    readonly tests: { readonly passed: number; readonly failed: number; readonly skipped: number; readonly total: number } | null;
    /** Judge gates: the verdict, so a retry prompt can carry the judge's issues and follow-up. */
    readonly verdict: PromptVerdict | null;
  }[];
  readonly failed_gates: readonly string[];
  readonly changed_files: readonly string[];
  /** Claims of the agent's last message that the change set or the gates contradict (src/core/claims.ts). */
  readonly contradictions: readonly string[];
}

export interface PromptVerdict {
  readonly verdict: string;
  readonly confidence: number;
  readonly issues: readonly string[];
  readonly contradicted_claims: readonly string[];
  readonly follow_up: string;
  readonly needs_human: boolean;
}

function promptVerdict(g: GateOutcome): PromptVerdict | null {
  const v = g.verdict;
  if (v === undefined) return null;
  return {
    verdict: v.verdict,
    confidence: v.confidence,
    issues: v.issues,
    contradicted_claims: v.contradictedClaims,
    follow_up: v.followUp ?? "",
    needs_human: v.needsHuman,
  };
}

export function tail(text: string, max = TAIL_CHARS): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}

export function describePrevious(input: {
  readonly attempt: number;
  readonly reasons: readonly string[];
  readonly agent: AgentOutcome | undefined;
  readonly gates: readonly GateOutcome[];
  readonly files: readonly FileChange[];
}): PreviousAttempt {
  return {
    attempt: input.attempt,
    reasons: input.reasons,
    agent:
      input.agent === undefined
        ? null
        : {
            exit_code: input.agent.exitCode,
            end: input.agent.end,
            claims: tail(input.agent.claims, 2_000),
            output_tail: tail(input.agent.outputTail),
          },
    gates: input.gates.map((g) => ({
      id: g.gate,
      passed: g.passed,
      summary: g.summary,
      output_tail: tail(g.outputTail),
      tests: g.tests ?? null,
      verdict: promptVerdict(g),
    })),
    failed_gates: input.gates.filter((g) => !g.passed).map((g) => g.gate),
    changed_files: input.files.map((f) => f.path),
    contradictions: input.agent === undefined ? [] : checkClaims(input.agent.claims, input.files, input.gates).contradictions.map(describeContradiction),
  };
}
