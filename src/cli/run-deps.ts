import { join } from "node:path";
import type { GateOutcome, RunEvent } from "../core/events.js";
import type { GateSpec, Settings } from "../core/pipeline.js";
import type { GateContext, RunDeps } from "../run/deps.js";
import type { StateStore } from "../state/port.js";

/** Only defined variables reach children; orc never logs or stores this environment. */
function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** Judge gates are rejected by config/ in this build; meeting one here fails closed, never open. */
function judgeUnavailable(spec: GateSpec): GateOutcome {
  return {
    gate: spec.id,
    kind: "judge",
    passed: false,
    exitCode: null,
    end: "spawn-error",
    durationMs: 0,
    outputTail: "",
    summary: "no LLM judge is available in this build (fails closed)",
  };
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
}): Promise<RunDeps> {
  const [{ LocalTransport }, { loadAgent }, { runCommandGate }, { ShadowGit }, { ChangeWatcher }, { CheckpointTracker }] = await Promise.all([
    import("../transports/local.js"),
    import("../agents/registry.js"),
    import("../quality/command-gate.js"),
    import("../state/checkpoints.js"),
    import("../watch/snapshot-watcher.js"),
    import("../run/changes.js"),
  ]);
  const transport = new LocalTransport();
  const runDir = join(options.settings.stateDir, "runs", options.runId);
  const git = new ShadowGit({ storeDir: join(options.settings.stateDir, "checkpoints.git"), workspace: options.workspace, stateDir: options.settings.stateDir, transport });
  await git.init();
  const watcher =
    options.concurrency === 1
      ? new ChangeWatcher({ workspace: options.workspace, snapshotFile: join(runDir, "watch.snapshot"), ignore: [options.settings.stateDir], settleMs: 0 })
      : undefined;
  return {
    store: options.store,
    transport,
    loadAgent,
    runGate: (spec: GateSpec, ctx: GateContext) => (spec.kind === "command" ? runCommandGate(spec, ctx) : Promise.resolve(judgeUnavailable(spec))),
    changes: new CheckpointTracker(git, watcher, `runs/${options.runId}`),
    onEvent: options.onEvent,
    env: childEnv(options.env),
    signal: options.signal,
    promptDir: join(runDir, "prompts"),
  };
}
