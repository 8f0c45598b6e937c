import type { BreakpointResolution } from "../core/events.js";
import { usage, type Failure } from "../core/failure.js";
import { withWritableStore, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail as failWith, type Io } from "./io.js";

export interface ResolveOptions extends GlobalOptions {
  readonly json: boolean;
  readonly approve?: boolean;
  readonly reject?: boolean;
  readonly retry?: boolean;
  readonly note?: string;
}

/** Notes reach a prompt and the DB: bounded, like the evidence orc keeps of an agent. */
const MAX_NOTE_CHARS = 8_000;

/**
 * `orc resolve BP --approve|--reject|--retry [--note TEXT]`: records the human's decision. It works from any process
 * while the run is paused (or has exited); `orc resume RUN` then applies it: approve accepts the paused attempt,
 * reject fails the task, retry runs a new attempt whose prompt carries the note.
 */
export async function resolveCommand(id: string, options: ResolveOptions, io: Io): Promise<number> {
  const fail = (failure: Failure): number => failWith(io, failure, options);
  const chosen = (["approve", "reject", "retry"] as const).filter((r) => options[r] === true);
  const resolution: BreakpointResolution | undefined = chosen[0];
  if (chosen.length !== 1 || resolution === undefined) return fail(usage("give exactly one of --approve, --reject or --retry"));
  const note = options.note ?? "";
  if (note.length > MAX_NOTE_CHARS) return fail(usage(`the note is longer than ${MAX_NOTE_CHARS} characters`));
  return withWritableStore(io, options, (store) => {
    const bp = store.breakpoint(id);
    if (bp === undefined) return fail(usage(`unknown breakpoint "${id}" (see \`orc breakpoints\`)`));
    if (bp.status !== "open") return fail(usage(`breakpoint ${id} was already resolved (${bp.resolution ?? "?"} at ${bp.resolvedAt ?? "?"})`));
    try {
      store.append({ type: "breakpoint.resolved", run: bp.run, id, task: bp.task, resolution, note, pid: process.pid });
    } catch (error) {
      // Two people resolving the same breakpoint at once: the store refuses the second inside its write transaction.
      if (error instanceof Error && error.name === "StateProjectionError") return fail(usage(`breakpoint ${id} was resolved by someone else just now`));
      throw error;
    }
    const run = store.getRun(bp.run);
    const next = run?.status === "running" ? `run ${bp.run} is still running; \`orc resume ${bp.run}\` applies this once it has paused` : `\`orc resume ${bp.run}\` continues the run`;
    if (options.json) io.stdout.write(`${JSON.stringify({ breakpoint: id, run: bp.run, task: bp.task, resolution, note })}\n`);
    else io.stdout.write(`${id} resolved: ${resolution}${note !== "" ? ` (note: ${note})` : ""}. ${next}\n`);
    return EXIT.ok;
  });
}
