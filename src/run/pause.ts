import type { FileChange, GateOutcome } from "../core/events.js";
import { breakpointContext, openedEvent, type OpenedEvent } from "../rules/breakpoints.js";
import type { FiredRule } from "../rules/engine.js";
import type { RunDeps } from "./deps.js";
import { recorder } from "./deps.js";

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
  const record = recorder(deps);
  const stored = record(openedEvent({ run: input.run, task: input.task, attempt: input.attempt, fired: input.fired, context }));
  const opened = stored.event as OpenedEvent;
  if (deps.notify !== undefined) {
    for (const result of await deps.notify(opened)) record({ type: "breakpoint.notified", run: input.run, id: opened.id, ...result });
  }
  return opened.id;
}
