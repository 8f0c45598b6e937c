import { buildRunDeps } from "../../src/cli/run-deps.js";
import { openWritableStore } from "../../src/cli/context.js";
import { loadForRun } from "../../src/cli/load.js";
import { currentLease } from "../../src/cli/lease.js";
import type { RunEvent } from "../../src/core/events.js";
import { newRunId } from "../../src/core/ids.js";
import type { RunDeps } from "../../src/run/deps.js";
import { executeRun, type RunEnd } from "../../src/run/orchestrator.js";
import type { Rig } from "./rig.js";

/**
 * `orc apply PIPELINE --workspace WS` in this process, as src/cli/apply.ts and drive.ts do it (the real config
 * loader, SQLite store, workspace, agents and gates), with one difference: `wrap` may replace ports of the run's
 * RunDeps (a transport that loses processes, say). The run is then an ordinary run of the rig's project:
 * `orc status`, `orc resolve` and `orc resume` work on it as on any other.
 */
export async function applyInProcess(
  rig: Rig,
  pipeline: string,
  workspace: string,
  wrap: (deps: RunDeps) => RunDeps,
  env: Record<string, string> = {},
): Promise<{ runId: string; end: RunEnd; events: RunEvent[] }> {
  const io = { stdout: process.stdout, stderr: process.stderr, cwd: rig.dir, env: rig.env(env) };
  const loaded = await loadForRun(pipeline, { json: true }, io);
  if (typeof loaded === "number") throw new Error(`the pipeline did not load (exit ${String(loaded)})`);
  const { settings, pipeline: spec, plan } = loaded;
  const opened = await openWritableStore(settings);
  if (!opened.ok) throw new Error(`no state store: ${JSON.stringify(opened.failure)}`);
  const store = opened.value;
  const runId = newRunId();
  const ws = rig.path(workspace);
  const events: RunEvent[] = [];
  try {
    store.append({ type: "run.created", run: runId, pipeline: spec.name, pipelineFile: spec.file, workspace: ws, tasks: plan.tasks.map((t) => ({ id: t.id, maxAttempts: t.maxAttempts })), spec: { pipeline: spec, plan } });
    const deps = await buildRunDeps({
      settings,
      ...(spec.transport === undefined ? {} : { transport: spec.transport }),
      store,
      runId,
      workspace: ws,
      concurrency: plan.concurrency,
      env: io.env,
      signal: new AbortController().signal,
      onEvent: (event) => events.push(event),
    });
    const wrapped = wrap(deps);
    try {
      const end = await executeRun(wrapped, { runId, pipeline: spec, plan, resumed: false, lease: currentLease() });
      return { runId, end, events };
    } finally {
      await wrapped.close?.();
    }
  } finally {
    store.close();
  }
}
