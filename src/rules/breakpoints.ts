import { randomHex } from "../core/ids.js";
import type { BreakpointContext, EventInput, FileChange, GateOutcome, RunEvent } from "../core/events.js";
import type { FiredRule } from "./engine.js";
import { verdictOf } from "./context.js";

/** Breakpoint ids are unique across runs and short enough to type: `bp-3f9a1c2e`. */
export function newBreakpointId(): string {
  return `bp-${randomHex(4)}`;
}

/** What `orc breakpoints` shows about why a task stopped: the reasons, diff stats, gate evidence and the verdict. */
export function breakpointContext(input: {
  readonly fired: FiredRule;
  readonly reasons: readonly string[];
  readonly files: readonly FileChange[];
  readonly gates: readonly GateOutcome[];
}): BreakpointContext {
  const verdict = input.gates.map(verdictOf).find((v) => v !== undefined);
  return {
    hook: input.fired.rule.hook,
    source: input.fired.rule.source,
    reasons: input.reasons,
    files: input.files.length,
    linesChanged: input.files.reduce((n, f) => n + f.added + f.removed, 0),
    changedFiles: input.files.slice(0, 50).map((f) => `${f.status === "added" ? "A" : f.status === "deleted" ? "D" : "M"} ${f.path} (+${f.added} -${f.removed})`),
    gates: input.gates.map((g) => ({ gate: g.gate, passed: g.passed, summary: g.summary })),
    verdict: verdict ?? null,
  };
}

/** The breakpoint.opened event for a fired rule. */
export function openedEvent(input: {
  readonly run: string;
  readonly task: string;
  readonly attempt: number;
  readonly fired: FiredRule;
  readonly context: BreakpointContext;
}): Extract<EventInput, { type: "breakpoint.opened" }> {
  return {
    type: "breakpoint.opened",
    run: input.run,
    id: newBreakpointId(),
    task: input.task,
    attempt: input.attempt,
    rule: input.fired.rule.id,
    message: input.fired.message,
    context: input.context,
  };
}

export type OpenedEvent = Extract<RunEvent, { type: "breakpoint.opened" }>;

/** A notification channel's result, recorded as breakpoint.notified. */
export interface NotifyResult {
  readonly channel: "webhook" | "command";
  readonly ok: boolean;
  readonly detail: string;
}

export type Notifier = (event: OpenedEvent) => Promise<readonly NotifyResult[]>;
