import { resolve } from "node:path";
import { newRunId } from "../core/ids.js";
import { usage } from "../core/failure.js";
import type { GlobalOptions } from "./context.js";
import { openWritableStore } from "./context.js";
import { taskDirsRefused } from "./task-dirs-root.js";
import { drive, reporterFor } from "./drive.js";
import { isDirectory } from "./fs.js";
import { currentLease } from "./lease.js";
import { exitCodeFor } from "./exit-codes.js";
import { fail, reportFailure, type Io } from "./io.js";
import { loadForRun } from "./load.js";
import { withDefaultTransport } from "./default-transport.js";

export async function applyCommand(
  file: string,
  options: GlobalOptions & { readonly json: boolean; readonly workspace?: string; readonly wait?: boolean },
  io: Io,
): Promise<number> {
  const loaded = await loadForRun(file, options, io);
  if (typeof loaded === "number") return loaded;
  const { settings, plan } = loaded;
  const chosen = withDefaultTransport(loaded.pipeline);
  const { pipeline } = chosen;
  if (chosen.notice !== undefined) io.stderr.write(`${chosen.notice}\n`);
  const workspace = options.workspace !== undefined ? resolve(io.cwd, options.workspace) : settings.root;
  if (!isDirectory(workspace)) {
    const failure = usage(`workspace ${workspace} is not a directory`);
    reportFailure(io, failure, options);
    return exitCodeFor(failure);
  }

  const refused = await taskDirsRefused(plan.concurrency, io.env);
  if (refused !== undefined) {
    const failure = usage(refused);
    reportFailure(io, failure, options);
    return exitCodeFor(failure);
  }

  const opened = await openWritableStore(settings);
  if (!opened.ok) return fail(io, opened.failure, options);
  const store = opened.value;
  const runId = newRunId();
  const reporter = await reporterFor(io, plan, options.json);
  // The stored spec (normalised pipeline + plan) is what `orc resume` runs: it never re-reads the user's files.
  const created = store.append({
    type: "run.created",
    run: runId,
    pipeline: pipeline.name,
    pipelineFile: pipeline.file,
    workspace,
    tasks: plan.tasks.map((t) => ({ id: t.id, maxAttempts: t.maxAttempts })),
    spec: { pipeline, plan },
  });
  reporter.onEvent(created.event);
  return drive({ io, settings, store, reporter, runId, pipeline, plan, workspace, resumed: false, wait: options.wait === true, lease: currentLease() });
}
