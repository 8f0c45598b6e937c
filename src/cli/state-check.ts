import { join } from "node:path";
import type { RunEnd } from "../run/orchestrator.js";
import { damagedMessage, damageOf } from "../state/intact.js";
import { stateLost, type StateStore } from "../state/port.js";
import { EXIT } from "./exit-codes.js";
import type { Io } from "./io.js";

/** How the run loop came back: an end, or an error it did not expect. */
export type RunOutcome = { readonly end: RunEnd } | { readonly error: unknown };

/**
 * The exit code of a run, once its state database has been checked. A database deleted under the run (an agent's
 * `rm -rf .orc`, with the state directory inside its workspace) was written back by the check; the run is recorded
 * as paused where it stopped and the user reads one line, never the stack of whatever failed first because of it
 * (the checkpoint store goes with the directory). An unexpected error with the database intact is a bug: rethrown.
 */
export function settleRun(options: {
  readonly io: Io;
  readonly store: StateStore;
  readonly runId: string;
  readonly stateDir: string;
  readonly outcome: RunOutcome;
  readonly codeFor: (end: RunEnd) => number;
}): number {
  const { io, store, runId, outcome } = options;
  const lost = stateLost(store);
  const resume = `run ${runId} is paused: \`orc resume ${runId}\` continues`;
  if ("error" in outcome) {
    if (lost?.reason === "state-lost") {
      if (!lost.saved) return say(io, "error", lost.message, EXIT.failed);
      pause(store, runId, `its state database was deleted during the run and written back; \`orc resume ${runId}\` continues`);
      return say(io, "error", `${lost.message}; ${resume}`, EXIT.interrupted);
    }
    const damage = damageOf(outcome.error);
    if (damage !== undefined) return say(io, "error", damagedMessage(join(options.stateDir, "state.db"), damage), EXIT.failed);
    throw outcome.error;
  }
  const code = options.codeFor(outcome.end);
  if (lost?.reason !== "state-lost") return code;
  // The run loop stopped on it (the run is paused and resumable), or the run ended before anything noticed.
  if (outcome.end === "interrupted" && lost.saved) return say(io, "error", `${lost.message}; ${resume}`, EXIT.interrupted);
  return say(io, lost.saved ? "warning" : "error", lost.message, code);
}

function say(io: Io, level: "error" | "warning", message: string, code: number): number {
  io.stderr.write(`orc: ${level}: ${message}\n`);
  return code;
}

/** Records where the run stopped, in the copy; it is already written back, so a failure here loses nothing of it. */
function pause(store: StateStore, runId: string, reason: string): void {
  try {
    store.append({ type: "run.interrupted", run: runId, reason });
  } catch {
    // The run stays `running` in the copy; `orc resume` closes it the same way (its process is gone).
  }
}
