import type { BreakpointRow, TaskRow } from "../state/port.js";

/** What a paused task does when the run resumes, from its last breakpoint and how (whether) a human resolved it. */
export type ResumeStep =
  | { readonly kind: "wait"; readonly breakpoint: string }
  | { readonly kind: "accept"; readonly reason: string }
  | { readonly kind: "fail"; readonly reason: string }
  /** Run the task again; `note` reaches the next prompt; before_task rules are not asked again for `resolvedAttempt`. */
  | { readonly kind: "continue"; readonly note: string; readonly resolvedAttempt: number };

/**
 * approve: the paused attempt is accepted as it is (a before_task breakpoint: the attempt goes ahead);
 * reject: the task fails; retry: a new attempt whose prompt carries the note (it does not count against max_attempts:
 * a human asked for it). docs/rules.md documents the same.
 */
/** The reason a task ends with after a human's approve or reject, e.g. `approved at breakpoint bp-1 (rule): note`. */
export function resolvedReason(bp: BreakpointRow): string {
  const note = bp.note ?? "";
  return `${bp.resolution === "approve" ? "approved" : "rejected"} at breakpoint ${bp.id} (${bp.rule})${note === "" ? "" : `: ${note}`}`;
}

export function resumeStep(row: TaskRow | undefined, breakpoints: readonly BreakpointRow[]): ResumeStep | undefined {
  if (row === undefined) return undefined;
  const bp = breakpoints.filter((b) => b.task === row.id).at(-1);
  if (row.status !== "paused" && !resolvedWhileRunning(row, bp)) return undefined;
  if (bp === undefined) return { kind: "continue", note: "", resolvedAttempt: 0 };
  if (bp.status === "open") return { kind: "wait", breakpoint: bp.id };
  const note = bp.note ?? "";
  const said = note === "" ? "" : `: ${note}`;
  switch (bp.resolution) {
    case "approve": {
      const paused = row.attempts.find((a) => a.attempt === bp.attempt && a.decision === "pause");
      return paused !== undefined
        ? { kind: "accept", reason: `approved at breakpoint ${bp.id} (${bp.rule})${said}` }
        : { kind: "continue", note, resolvedAttempt: bp.attempt };
    }
    case "reject":
      return { kind: "fail", reason: `rejected at breakpoint ${bp.id} (${bp.rule})${said}` };
    case "retry":
    case undefined:
      return { kind: "continue", note, resolvedAttempt: bp.attempt };
  }
}

/**
 * A human resolved the breakpoint of the task's latest attempt and the run (`--wait`) went on, but stopped (SIGINT,
 * kill -9) before it recorded where the resolution led, e.g. while merging approved work: the resolution still
 * applies, as it would to a paused task.
 */
function resolvedWhileRunning(row: TaskRow, bp: BreakpointRow | undefined): boolean {
  if (bp === undefined || bp.status === "open" || (row.status !== "running" && row.status !== "pending")) return false;
  const latest = row.attempts.filter((a) => a.rolledBack !== true).at(-1);
  return latest?.decision === "pause" && latest.attempt === bp.attempt;
}
