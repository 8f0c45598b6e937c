import type { Settings } from "../core/pipeline.js";
import type { Plan } from "../plan/plan.js";
import type { RunDeps } from "../run/deps.js";
import { executeRun, type RunEnd, type RunTarget } from "../run/orchestrator.js";
import type { StateStore } from "../state/port.js";
import { chooseReporter } from "../ui/choose.js";
import type { Reporter } from "../ui/reporter.js";
import { EXIT } from "./exit-codes.js";
import { interruptSignal } from "./interrupt.js";
import { fail, type Io } from "./io.js";
import { HEARTBEAT_MS } from "./lease.js";
import { LeaseHeldError } from "../state/sqlite-store.js";
import { buildRunDeps } from "./run-deps.js";
import { settleRun, type RunOutcome } from "./state-check.js";

const EXIT_FOR_END: Record<RunEnd, number> = { succeeded: EXIT.ok, failed: EXIT.failed, interrupted: EXIT.interrupted, paused: EXIT.paused };

export function reporterFor(io: Io, plan: Plan, json: boolean): Promise<Reporter> {
  return chooseReporter({ json, stdout: io.stdout, env: io.env, tasks: plan.tasks.map((t) => ({ id: t.id, maxAttempts: t.maxAttempts })) });
}

/**
 * Runs (or resumes) a stored run to its end and maps the end to the documented exit code. The state database is
 * checked once more at the end (src/cli/state-check.ts): deleted under the run, it is written back and the run
 * stops with one line, whatever the run loop was doing when it noticed (or failed because of it).
 */
export async function drive(
  options: RunTarget & {
    readonly io: Io;
    readonly settings: Settings;
    readonly store: StateStore;
    readonly reporter: Reporter;
    /** The directory the agents and gates work in. */
    readonly workspace: string;
  },
): Promise<number> {
  const interrupt = interruptSignal();
  let deps: RunDeps | undefined;
  let outcome: RunOutcome;
  const { lease } = options;
  const heartbeat = lease === undefined ? undefined : setInterval(() => {
    try {
      options.store.heartbeat(options.runId, lease);
    } catch {
      // The database was busy past its timeout: the next beat tries again; a missed one only ages the heartbeat.
    }
  }, HEARTBEAT_MS);
  heartbeat?.unref();
  try {
    deps = await buildRunDeps({
      settings: options.settings,
      ...(options.pipeline.transport === undefined ? {} : { transport: options.pipeline.transport }),
      store: options.store,
      runId: options.runId,
      workspace: options.workspace,
      concurrency: options.plan.concurrency,
      env: options.io.env,
      signal: interrupt.signal,
      onEvent: (event) => {
        options.reporter.onEvent(event);
      },
    });
    outcome = { end: await executeRun(deps, options) };
  } catch (error) {
    outcome = { error };
  }
  clearInterval(heartbeat);
  try {
    await deps?.close?.();
    await options.reporter.close();
    if ("error" in outcome && outcome.error instanceof LeaseHeldError) {
      // Another orc took the run between our check and our start: it drives the run; we stop having done nothing.
      const holder = options.store.getRun(options.runId);
      return fail(options.io, { reason: "run-busy", run: options.runId, pid: holder?.lease?.pid ?? holder?.pid ?? 0 }, { json: false });
    }
    return settleRun({ io: options.io, store: options.store, runId: options.runId, stateDir: options.settings.stateDir, outcome, codeFor: (end) => EXIT_FOR_END[end] });
  } finally {
    interrupt.dispose();
    options.store.close();
  }
}
