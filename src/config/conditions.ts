import { checkCondition } from "../core/expression.js";
import type { Path } from "./describe.js";
import type { Diagnostics } from "./diagnostics.js";
import { q } from "./describe.js";
import type { Scope } from "./scope.js";

/**
 * Checks a rule's `when:` and reports a problem at the exact line:col inside the YAML scalar: the scalar's start, plus
 * the opening quote, plus the error's offset in the expression. When the scalar's source is not the expression
 * character for character (escapes, folded block scalars), the diagnostic points at the scalar's start.
 */
export function checkWhen(when: string, path: Path, out: Diagnostics, text: string | undefined): void {
  const problem = checkCondition(when);
  if (problem === undefined) return;
  const message = `condition: ${problem.message}`;
  const scalar = out.locator.span(path);
  if (text === undefined) {
    out.add(scalar, "error", "bad-condition", message);
    return;
  }
  const lineStart = nthLineStart(text, scalar.line);
  let start = lineStart + scalar.col - 1;
  const quote = text[start];
  if (quote === '"' || quote === "'") start += 1;
  if (text.slice(start, start + when.length) === when) {
    const at = start + Math.max(0, Math.min(problem.offset, when.length));
    out.add(out.locator.offsets(at, at + 1), "error", "bad-condition", message);
    return;
  }
  out.add(scalar, "error", "bad-condition", message);
}

function nthLineStart(text: string, line: number): number {
  let offset = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf("\n", offset);
    if (next === -1) return offset;
    offset = next + 1;
  }
  return offset;
}

/** A pipeline's breakpoints: each condition checked, ids unique. */
export function checkBreakpoints(breakpoints: readonly { readonly id: string; readonly when: string }[], scope: Scope, text: string | undefined): void {
  const first = new Map<string, number>();
  breakpoints.forEach((bp, index) => {
    checkWhen(bp.when, ["breakpoints", index, "when"], scope.out, text);
    const seen = first.get(bp.id);
    if (seen === undefined) first.set(bp.id, index);
    else {
      const line = scope.out.locator.span(["breakpoints", seen, "id"]).line;
      scope.out.error("duplicate-breakpoint", `duplicate breakpoint id ${q(bp.id)} (first defined on line ${line})`, ["breakpoints", index, "id"]);
    }
  });
}
