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

const EXIT_FOR_END: Record<RunEnd, number> = { succeeded: EXIT.ok, failed: EXIT.failed, interrupted: EXIT.interrupted, paused: EXIT.paused };

export function reporterFor(io: Io, plan: Plan, json: boolean): Promise<Reporter> {
  return chooseReporter({ json, stdout: io.stdout, env: io.env, tasks: plan.tasks.map((t) => ({ id: t.id, maxAttempts: t.maxAttempts })) });
}

/** Runs (or resumes) a stored run to its end and maps the end to the documented exit code. */
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
  const { lease } = options;
  const heartbeat = lease === undefined ? undefined : setInterval(() => {
    options.store.heartbeat(options.runId, lease);
  }, HEARTBEAT_MS);
  heartbeat?.unref();
  try {
    deps = await buildRunDeps({
      settings: options.settings,
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
    const end = await executeRun(deps, options);
    return EXIT_FOR_END[end];
  } catch (error) {
    // Another orc took the run between our check and our start: it drives the run, we stop before doing anything.
    if (!(error instanceof LeaseHeldError)) throw error;
    const holder = options.store.getRun(options.runId);
    return fail(options.io, { reason: "run-busy", run: options.runId, pid: holder?.lease?.pid ?? holder?.pid ?? 0 }, { json: false });
  } finally {
    clearInterval(heartbeat);
    await deps?.close?.();
    await options.reporter.close();
    interrupt.dispose();
    options.store.close();
  }
}
