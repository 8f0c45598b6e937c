import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SandboxTransport } from "../../transports/sandbox.js";
import type { CheckResult, DoctorCheck, DoctorContext } from "./check.js";

/**
 * One real sandboxed process, in a throwaway workspace: it must start, write its workspace and fail to write the host.
 * Without bwrap the spawn fails; a kernel without user or mount namespaces makes bwrap itself exit non-zero.
 */
async function trySandbox(ctx: DoctorContext, network: boolean): Promise<{ readonly ok: boolean; readonly detail: string; readonly ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), "orc-doctor-sandbox-"));
  try {
    const transport = new SandboxTransport({
      workspace: join(dir, "ws"),
      stateDir: ctx.settings.stateDir,
      userHome: undefined,
      homeDir: join(dir, "home"),
      homePaths: [],
      network,
    });
    mkdirSync(join(dir, "ws"));
    mkdirSync(join(dir, "home"));
    const env: Record<string, string> = { PATH: ctx.env.PATH ?? "/usr/bin:/bin" };
    const script = "touch probe && ! (echo x > /usr/.orc-doctor-probe) 2>/dev/null";
    const out = await transport.run({ command: script, shell: true, cwd: join(dir, "ws"), env, timeoutMs: 15_000, killGraceMs: 500 });
    const ok = out.end === "exited" && out.exitCode === 0;
    const why = out.error ?? (out.stderrTail.trim().split("\n")[0] || `exit ${String(out.exitCode ?? out.end)}`);
    return { ok, detail: ok ? "works" : why, ms: Math.round(out.durationMs) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The transport orchestrator.yaml chooses can start a process; none chosen: the one `orc apply` would use by default
 * (sandbox where bubblewrap works, else local; cli/default-transport.ts); for `local`, whether `sandbox` would work.
 */
export const transportCheck: DoctorCheck = {
  name: "transport",
  async run(ctx): Promise<CheckResult> {
    const spec = ctx.settings.transport;
    if (spec === undefined) {
      const trial = await trySandbox(ctx, true);
      if (trial.ok) {
        return { status: "ok", detail: `sandbox by default (no transport configured; bubblewrap works: a trial process ran in ${String(trial.ms)}ms)`, data: { kind: "sandbox", default: true, sandbox: true, ms: trial.ms } };
      }
      return { status: "ok", detail: `local by default (no transport configured; sandbox unavailable: ${trial.detail}): agents and gates run as you`, data: { kind: "local", default: true, sandbox: false } };
    }
    if (spec.kind === "local") {
      const trial = await trySandbox(ctx, true);
      const hint = trial.ok ? "bubblewrap works here: `transport: sandbox` keeps agents out of your home and orc's state" : `sandbox unavailable (${trial.detail})`;
      return { status: "ok", detail: `local (configured: agents and gates run as you); ${hint}`, data: { kind: "local", default: false, sandbox: trial.ok } };
    }
    if (spec.kind === "docker") return (await import("./transport-docker.js")).dockerCheck(ctx, spec);
    if (spec.kind === "ssh") return (await import("./transport-ssh.js")).checkSsh(ctx, spec);
    const trial = await trySandbox(ctx, spec.network);
    if (!trial.ok) return { status: "fail", detail: `sandbox: bubblewrap cannot run a sandboxed process: ${trial.detail}`, data: { kind: "sandbox", sandbox: false } };
    return { status: "ok", detail: `sandbox (bubblewrap, network ${spec.network ? "on" : "off"}): a trial process ran in ${String(trial.ms)}ms`, data: { kind: "sandbox", sandbox: true, ms: trial.ms } };
  },
};
