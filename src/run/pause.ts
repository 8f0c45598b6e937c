import type { FileChange, GateOutcome } from "../core/events.js";
import { breakpointContext, openedEvent, type OpenedEvent } from "../rules/breakpoints.js";
import type { FiredRule } from "../rules/engine.js";
import type { RunDeps } from "./deps.js";
import { journalOf } from "./journal.js";

/**
 * Opens a breakpoint (the task becomes `paused` in the same transaction) and sends the notifications. A notification
 * that fails is recorded (breakpoint.notified) and never stops the run: the breakpoint is in the DB either way.
 */
export async function openBreakpoint(
  deps: RunDeps,
  input: {
    readonly run: string;
    readonly task: string;
    readonly attempt: number;
    readonly fired: FiredRule;
    readonly reasons: readonly string[];
    readonly files: readonly FileChange[];
    readonly gates: readonly GateOutcome[];
  },
): Promise<string> {
  const context = breakpointContext({ fired: input.fired, reasons: input.reasons, files: input.files, gates: input.gates });
  const journal = journalOf(deps);
  const stored = journal.record(openedEvent({ run: input.run, task: input.task, attempt: input.attempt, fired: input.fired, context }));
  const opened = stored.event as OpenedEvent;
  if (deps.notify !== undefined) {
    for (const result of await deps.notify(opened)) journal.record({ type: "breakpoint.notified", run: input.run, id: opened.id, ...result });
  }
  return opened.id;
}

/** The human's note after a prompt that has no retry wrapper (the first attempt after a before_task breakpoint). */
export function humanNote(prompt: string, note: string): string {
  return `${prompt}\n\n---\nA human reviewed this task before this attempt and left a note:\n${note}\n`;
}
