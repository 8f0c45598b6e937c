import { spawnSync } from "node:child_process";
import { sandboxNeeds } from "../agents/sandbox-needs.js";
import type { Pipeline, TransportSpec } from "../core/pipeline.js";

/** Whether bubblewrap starts a sandboxed process here, probed once per orc process (bench/sandbox-probe.mjs: ~3 ms). */
let probed: { readonly ok: boolean; readonly why: string } | undefined;

function bwrapWorks(): { readonly ok: boolean; readonly why: string } {
  probed ??= probeBwrap();
  return probed;
}

/** One sandboxed `true`: bwrap found, and the kernel lets it make its namespaces. Uncached (the bench times it). */
export function probeBwrap(): { readonly ok: boolean; readonly why: string } {
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent", "true"];
  const out = spawnSync("bwrap", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 5000, encoding: "utf8" });
  const why = out.error !== undefined ? "bwrap not found" : (out.stderr.trim().split("\n")[0] ?? "") || `bwrap exited ${String(out.status ?? out.signal)}`;
  return { ok: out.error === undefined && out.status === 0, why };
}

/**
 * The transport of a run whose pipeline and orchestrator.yaml name none: `sandbox` where bubblewrap works (network
 * on, and what the pipeline's agents need from the home and the environment), else `local` with a one-line notice.
 * Chosen when the run is created and stored with it, so `orc resume` runs where `apply` ran.
 */
export function withDefaultTransport(pipeline: Pipeline, probe = bwrapWorks): { readonly pipeline: Pipeline; readonly notice?: string } {
  if (pipeline.transport !== undefined) return { pipeline };
  const bwrap = probe();
  if (!bwrap.ok) {
    const notice = `note: no transport configured and bubblewrap does not work here (${bwrap.why}): agents and gates run as you, on this machine; \`transport: local\` says so and silences this`;
    return { pipeline: { ...pipeline, transport: { kind: "local" } }, notice };
  }
  const needs = sandboxNeeds([pipeline.agent.kind, ...pipeline.tasks.map((t) => t.agent.kind)]);
  const transport: TransportSpec = { kind: "sandbox", network: true, home: needs.home, env: needs.env };
  return { pipeline: { ...pipeline, transport } };
}
