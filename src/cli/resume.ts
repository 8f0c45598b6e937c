import type { Failure } from "../core/failure.js";
import type { Pipeline } from "../core/pipeline.js";
import { PLAN_VERSION, type Plan } from "../plan/plan.js";
import { openWritableStore, settingsFor, type GlobalOptions } from "./context.js";
import { taskDirsRefused } from "./task-dirs-root.js";
import { drive, reporterFor } from "./drive.js";
import { isDirectory } from "./fs.js";
import { currentLease, driverAlive } from "./lease.js";

import { fail as failWith, type Io } from "./io.js";

function isStoredSpec(spec: unknown): spec is { pipeline: Pipeline; plan: Plan } {
  if (typeof spec !== "object" || spec === null) return false;
  const plan = (spec as { plan?: { version?: unknown } }).plan;
  return "pipeline" in spec && plan?.version === PLAN_VERSION;
}

/** Continues a paused, interrupted or crashed run from what the DB holds. */
export async function resumeCommand(runId: string, options: GlobalOptions & { readonly json: boolean; readonly wait?: boolean }, io: Io): Promise<number> {
  const fail = (failure: Failure): number => failWith(io, failure, options);
  const settings = await settingsFor(io, options);
  if (!settings.ok) return fail(settings.failure);
  const opened = await openWritableStore(settings.value);
  if (!opened.ok) return fail(opened.failure);
  const store = opened.value;
  const run = store.getRun(runId);
  const refuse = (failure: Failure): number => {
    store.close();
    return fail(failure);
  };
  if (run === undefined) return refuse({ reason: "unknown-run", run: runId });
  if (run.status === "succeeded" || run.status === "failed" || run.status === "cancelled") {
    return refuse({ reason: "not-resumable", run: runId, status: run.status });
  }
  if (driverAlive(run)) return refuse({ reason: "run-busy", run: runId, pid: run.lease?.pid ?? run.pid ?? 0 });
  const spec = store.runSpec(runId);
  if (!isStoredSpec(spec)) return refuse({ reason: "state", message: `run ${runId} was stored by an incompatible orc version` });
  if (!isDirectory(run.workspace)) {
    return refuse({ reason: "state", message: `run ${runId} works in ${run.workspace}, which is not a directory any more; restore it (or move it back) and resume again` });
  }
  const refused = await taskDirsRefused(spec.plan.concurrency, io.env);
  if (refused !== undefined) return refuse({ reason: "usage", message: refused });
  const reporter = await reporterFor(io, spec.plan, options.json);
  return drive({
    io,
    settings: settings.value,
    store,
    reporter,
    runId,
    pipeline: spec.pipeline,
    plan: spec.plan,
    workspace: run.workspace,
    resumed: true,
    wait: options.wait === true,
    lease: currentLease(),
    ...(run.lease === undefined ? {} : { takeover: run.lease }),
  });
}
