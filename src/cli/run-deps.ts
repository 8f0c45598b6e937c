import { join } from "node:path";
import type { RunEvent } from "../core/events.js";
import type { GateSpec, Settings } from "../core/pipeline.js";
import type { GateContext, RunDeps } from "../run/deps.js";
import { committedReads, journalOf } from "../run/journal.js";
import type { StateStore } from "../state/port.js";
import type { Notifier } from "../rules/breakpoints.js";
import type { Transport } from "../transports/port.js";
import { startCheckpoints, type CheckpointStart } from "./checkpoint-start.js";

/** Only defined variables reach children; orc never logs or stores this environment. */
function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** Wires the real parts: local transport, lazily loaded agents, command gates, shadow-git checkpoints. */
export async function buildRunDeps(options: {
  readonly settings: Settings;
  readonly store: StateStore;
  readonly runId: string;
  readonly workspace: string;
  readonly concurrency: number;
  readonly env: Record<string, string | undefined>;
  readonly signal: AbortSignal;
  readonly onEvent: (event: RunEvent) => void;
  /** The checkpoint store and first checkpoint, if the caller started them early (src/cli/checkpoint-start.ts). */
  readonly checkpoints?: CheckpointStart;
}): Promise<RunDeps> {
  const runDir = join(options.settings.stateDir, "runs", options.runId);
  const watching = options.concurrency === 1;
  // git runs in its own process: `git init` and, for a run with a change watcher, the checkpoint the first attempt
  // starts from are taken while the rest of the run's modules load.
  const { git, transport, firstTree: first } = options.checkpoints ?? startCheckpoints(options.settings, options.workspace, watching);
  const [firstTree, [{ loadAgent }, { runCommandGate }, { ChangeWatcher }, { CheckpointTracker }, { ProjectSummary }, { judgeGates }]] = await Promise.all([
    first,
    Promise.all([
      import("../agents/registry.js"),
      import("../quality/command-gate.js"),
      import("../watch/snapshot-watcher.js"),
      import("../run/changes.js"),
      import("../prompts/summary.js"),
      import("./judge-wiring.js"),
    ]),
  ]);
  // The LLM supervisor: judge gates (the model loads on the first one) and the running project summary.
  const memory = options.store.llmMemory?.();
  const summary = new ProjectSummary(memory);
  const judge = judgeGates({ settings: options.settings, memory, summary, env: options.env });
  const watcher = watching
    ? new ChangeWatcher({ workspace: options.workspace, snapshotFile: join(runDir, "watch.snapshot"), ignore: [options.settings.stateDir], settleMs: 0 })
    : undefined;
  await watcher?.start();
  const changes = new CheckpointTracker(git, watcher, `runs/${options.runId}`);
  if (firstTree !== undefined) await changes.begin(firstTree);
  const env = childEnv(options.env);
  const notify = await breakpointNotifier(options.settings, transport, env, options.workspace);
  const flush = (): void => {
    journalOf(deps).flush();
  };
  const deps: RunDeps = {
    store: committedReads(options.store, flush),
    transport,
    loadAgent,
    runGate: (spec: GateSpec, ctx: GateContext) => (spec.kind === "command" ? runCommandGate(spec, ctx) : judge.run(spec, ctx)),
    changes,
    onEvent: (event) => {
      summary.onEvent(event);
      options.onEvent(event);
    },
    // The summary is built from committed events: commit what the run holds back before reading it. A store that
    // refuses the commit must not surface as a template error: the events stay held back, and the run's next record
    // fails with the store's error.
    projectSummary: () => {
      try {
        flush();
      } catch {
        // See above.
      }
      return summary.text();
    },
    ...(judge.rewrite === undefined ? {} : { rewritePrompt: judge.rewrite }),
    env,
    signal: options.signal,
    promptDir: join(runDir, "prompts"),
    close: async () => {
      // A run that ended normally recorded its end, which committed everything; one that threw may hold events back.
      try {
        flush();
      } catch {
        // The store failed under the run already: the error that stopped the run says so.
      }
      summary.save();
      await changes.close();
    },
    ...notify,
  };
  return deps;
}

/** orchestrator.yaml `notify:` as a notifier (loaded only when configured). */
async function breakpointNotifier(settings: Settings, transport: Transport, env: Record<string, string>, workspace: string): Promise<{ notify?: Notifier }> {
  if (settings.notify === undefined) return {};
  const { makeNotifier } = await import("../rules/notify.js");
  const notify = makeNotifier(settings.notify, transport, env, workspace);
  return notify === undefined ? {} : { notify };
}
