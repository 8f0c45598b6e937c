import { formatDuration } from "../core/duration.js";
import type { TransportSpec } from "../core/pipeline.js";
import type { RunSnapshot, TaskRow } from "../state/port.js";
import { withReadonlyStore, type GlobalOptions } from "./context.js";
import { wasLost } from "../run/lost.js";
import { EXIT } from "./exit-codes.js";
import { fail, type Io } from "./io.js";

function attemptsLine(task: TaskRow): string {
  const last = task.attempts.at(-1);
  const n = task.attempts.filter((a) => a.status === "decided").length;
  const why = task.reason ?? last?.reasons.join("; ") ?? "";
  const confidence = task.confidence === undefined ? "" : `  confidence ${task.confidence.toFixed(2)}`;
  // Attempts the transport lost ran again and do not count (src/run/lost.ts); they are why a run took longer.
  const lostCount = task.attempts.filter(wasLost).length;
  const lost = lostCount === 0 ? "" : `, ${String(lostCount)} lost to the transport`;
  return `  ${task.id.padEnd(20)} ${task.status.padEnd(9)} ${String(n).padStart(2)}/${task.maxAttempts} attempts${lost}${confidence}${spentOn(task)}${why !== "" ? `  ${why}` : ""}`;
}

/** `  $0.0123, 4567 tokens` for agents that report cost or usage (coding-agent CLIs); "" otherwise. */
function spentOn(task: TaskRow): string {
  const agents = task.attempts.map((a) => a.agent).filter((a) => a?.costUsd !== undefined || a?.tokens !== undefined);
  if (agents.length === 0) return "";
  const usd = agents.reduce((sum, a) => sum + (a?.costUsd ?? 0), 0);
  const tokens = agents.reduce((sum, a) => sum + (a?.tokens === undefined ? 0 : a.tokens.input + a.tokens.output + a.tokens.cacheRead + a.tokens.cacheWrite), 0);
  return `  $${usd.toFixed(4)}, ${tokens} tokens`;
}

/**
 * Where the run's agents and gates ran: the stored pipeline's transport (orc apply stores its default there), local
 * for a run stored before transports existed. Names only: a transport spec holds no secret.
 */
function storedTransport(spec: unknown): TransportSpec {
  const transport = (spec as { pipeline?: { transport?: TransportSpec } } | undefined)?.pipeline?.transport;
  return transport ?? { kind: "local" };
}

function transportLine(t: TransportSpec): string {
  if (t.kind === "sandbox") return `sandbox (bubblewrap, network ${t.network ? "on" : "off"})`;
  if (t.kind === "docker") return `docker (${t.image})`;
  return "local";
}

export function renderStatus(s: RunSnapshot, transport: TransportSpec = { kind: "local" }): string {
  const r = s.run;
  const elapsed = Date.parse(r.finishedAt ?? r.updatedAt) - Date.parse(r.createdAt);
  const lines = [
    `run ${r.id}: ${r.status}${r.reason !== undefined ? ` (${r.reason})` : ""}`,
    `  pipeline  ${r.pipeline} (${r.pipelineFile})`,
    `  workspace ${r.workspace}`,
    `  transport ${transportLine(transport)}`,
    `  started   ${r.createdAt}${Number.isFinite(elapsed) ? `, ${formatDuration(elapsed)}` : ""}`,
    "tasks:",
    ...s.tasks.map(attemptsLine),
  ];
  const open = s.breakpoints.filter((b) => b.status === "open");
  if (open.length > 0) {
    lines.push("open breakpoints (`orc breakpoints` for details):");
    for (const b of open) lines.push(`  ${b.id}  task ${b.task}  rule ${b.rule}: ${b.message}`);
  }
  return lines.join("\n");
}

/** `1.2 MB`, as people read sizes. */
function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? String(value) : value.toFixed(1)} ${units[unit] ?? "B"}`;
}

export async function statusCommand(runId: string | undefined, options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  return withReadonlyStore(io, options, async (store, settings) => {
    const id = runId ?? store?.latestRun()?.id;
    if (id === undefined) {
      if (runId !== undefined) throw new Error("unreachable");
      io.stdout.write(options.json ? `${JSON.stringify({ run: null, tasks: [], breakpoints: [] })}\n` : "no runs yet\n");
      return EXIT.ok;
    }
    const snapshot = store?.snapshot(id);
    if (snapshot === undefined) return fail(io, { reason: "unknown-run", run: id }, options);
    const transport = storedTransport(store?.runSpec(id));
    // The checkpoint store's size on disk (objects borrowed from the user's repository not counted): housekeeping keeps
    // it small, and this is where a user sees it.
    const storeBytes = await (await import("../workspace/housekeeping.js")).checkpointStoreSize(settings.stateDir);
    io.stdout.write(
      options.json
        ? `${JSON.stringify({ ...snapshot, transport, checkpoints: { bytes: storeBytes } })}\n`
        : `${renderStatus(snapshot, transport)}\ncheckpoints: ${formatBytes(storeBytes)} in the shadow store\n`,
    );
    return EXIT.ok;
  });
}
