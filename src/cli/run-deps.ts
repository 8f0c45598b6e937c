import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { RunEvent } from "../core/events.js";
import { LOCAL_TRANSPORT, type Settings, type TransportSpec } from "../core/pipeline.js";
import type { RunDeps } from "../run/deps.js";
import type { StateStore } from "../state/port.js";
import type { Notifier } from "../rules/breakpoints.js";
import { LocalTransport } from "../transports/local.js";
import type { Transport } from "../transports/port.js";
import { Places } from "./places.js";

/** Only defined variables reach children; orc never logs or stores this environment. */
function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** Wires the real parts behind the run's ports: the tasks' transports, the local workspace, agents, gates, the LLM supervisor. */
export async function buildRunDeps(options: {
  readonly settings: Settings;
  /** Where agents and gates run: the stored pipeline's `transport:` (else orchestrator.yaml's, else local). */
  readonly transport?: TransportSpec;
  readonly store: StateStore;
  readonly runId: string;
  readonly workspace: string;
  readonly concurrency: number;
  readonly env: Record<string, string | undefined>;
  readonly signal: AbortSignal;
  readonly onEvent: (event: RunEvent) => void;
}): Promise<RunDeps> {
  const [{ loadAgent }, { GateRegistry }, { LocalWorkspace }, { ProjectSummary }, { judgeGates }] = await Promise.all([
    import("../agents/registry.js"),
    import("../quality/registry.js"),
    import("../workspace/local.js"),
    import("../prompts/summary.js"),
    import("./judge-wiring.js"),
  ]);
  const hostEnv = childEnv(options.env);
  const promptDir = join(options.settings.stateDir, "runs", options.runId, "prompts");
  // Agents' own files (aider's chat history): writable in every transport, unlike the prompt directory.
  const scratchDir = join(options.settings.stateDir, "runs", options.runId, "scratch");
  mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
  // Agents and gates run in the chosen transport; checkpoints (which must see the state directory) and the user's
  // notify command stay on the host.
  const host = new LocalTransport();
  // A task's own `transport:` wins over the pipeline's, which wins over orchestrator.yaml's.
  const runTransport = options.transport ?? options.settings.transport ?? LOCAL_TRANSPORT;
  const places = new Places({ workspace: options.workspace, stateDir: options.settings.stateDir, runId: options.runId, env: hostEnv, promptDir, scratchDir });
  const workspace = await LocalWorkspace.open({
    dir: options.workspace,
    stateDir: options.settings.stateDir,
    runId: options.runId,
    transport: host,
    exclusive: options.concurrency === 1,
  });
  // Tasks side by side: a directory of its own per running task (src/workspace/task-dirs.ts), outside the workspace
  // and the state directory (which the sandbox hides); ORC_TASK_DIRS says where.
  const taskDirs = options.concurrency > 1 ? await import("../workspace/task-dirs.js") : undefined;
  const taskWorkspaces =
    taskDirs === undefined
      ? undefined
      : new taskDirs.TaskDirectories({ main: workspace, stateDir: options.settings.stateDir, runId: options.runId, root: taskDirs.taskDirsRoot(options.env), transport: host });
  // The LLM supervisor: judge gates (the model loads on the first one) and the running project summary.
  const memory = options.store.llmMemory?.();
  const summary = new ProjectSummary(memory);
  const judge = judgeGates({ settings: options.settings, memory, summary, env: options.env });
  const gates = new GateRegistry()
    .register("command", async () => (await import("../quality/command-gate.js")).commandGate)
    .register("judge", judge.load);
  const notify = await breakpointNotifier(options.settings, host, hostEnv, options.workspace);
  return {
    store: options.store,
    placeFor: (task) => places.for(task.transport ?? runTransport),
    workspace,
    ...(taskWorkspaces === undefined ? {} : { taskWorkspaces }),
    loadAgent,
    gates,
    onEvent: (event) => {
      summary.onEvent(event);
      options.onEvent(event);
    },
    projectSummary: () => summary.text(),
    ...(judge.rewrite === undefined ? {} : { rewritePrompt: judge.rewrite }),
    signal: options.signal,
    promptDir,
    scratchDir,
    close: async () => {
      summary.save();
      await Promise.all([workspace.close(), judge.close(), places.close()]);
    },
    ...notify,
  };
}

/** orchestrator.yaml `notify:` as a notifier (loaded only when configured). */
async function breakpointNotifier(settings: Settings, transport: Transport, env: Record<string, string>, workspace: string): Promise<{ notify?: Notifier }> {
  if (settings.notify === undefined) return {};
  const { makeNotifier } = await import("../rules/notify.js");
  const notify = makeNotifier(settings.notify, transport, env, workspace);
  return notify === undefined ? {} : { notify };
}
