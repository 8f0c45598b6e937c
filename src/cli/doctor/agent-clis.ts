import { relative } from "node:path";
import { AGENT_EXECUTABLES, findExecutable } from "../../agents/find-executable.js";
import { supervise } from "../../transports/supervisor.js";
import type { CheckResult, DoctorCheck, DoctorContext } from "./check.js";

interface Found {
  readonly kind: string;
  readonly executable: string;
  readonly path?: string;
  readonly version?: string;
  readonly problem?: string;
}

/** `NAME --version`'s first line with a version number in it ("2.1.330 (Claude Code)" → "2.1.330"). */
function versionFrom(output: string): string | undefined {
  return /\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?/.exec(output)?.[0];
}

async function probe(kind: string, executable: string, ctx: DoctorContext): Promise<Found> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v;
  const path = findExecutable(executable, env, [ctx.settings.root, ctx.cwd]);
  if (path === undefined) return { kind, executable };
  const out = await supervise({ command: path, args: ["--version"], cwd: ctx.cwd, env, timeoutMs: 15_000, killGraceMs: 500 });
  const version = versionFrom(out.stdoutTail) ?? versionFrom(out.stderrTail);
  if (out.end !== "exited" || out.exitCode !== 0 || version === undefined) {
    return { kind, executable, path, problem: `\`${executable} --version\` ${out.end === "exited" ? `exited ${out.exitCode ?? "?"}` : out.end}` };
  }
  return { kind, executable, path, version };
}

/**
 * Which coding-agent CLIs this machine can start, and their versions. Missing CLIs are fine (the command agent needs
 * none) unless orchestrator.yaml's default agent is one of them: then it is a warning, since a pipeline may still
 * choose another agent.
 */
export const agentClis: DoctorCheck = {
  name: "agents",
  async run(ctx): Promise<CheckResult> {
    const found = await Promise.all(Object.entries(AGENT_EXECUTABLES).map(([kind, exe]) => probe(kind, exe, ctx)));
    const describe = (f: Found): string => {
      if (f.path === undefined) return `${f.kind}: not found`;
      const where = f.path.startsWith(ctx.settings.root) ? relative(ctx.settings.root, f.path) : f.path;
      return f.version === undefined ? `${f.kind}: ${where} (${f.problem ?? "no version"})` : `${f.kind} ${f.version} (${where})`;
    };
    const configured = found.find((f) => f.kind === ctx.settings.agent.kind);
    const missingDefault = configured !== undefined && ctx.settings.agent.run === undefined && configured.version === undefined;
    const installed = found.filter((f) => f.version !== undefined).length;
    return {
      status: missingDefault ? "warn" : "ok",
      detail: `${installed} of ${found.length} agent CLIs: ${found.map(describe).join("; ")}${missingDefault ? ` — the default agent (${configured.kind}) cannot start` : ""}`,
      data: { agents: Object.fromEntries(found.map((f) => [f.kind, { executable: f.executable, path: f.path ?? null, version: f.version ?? null }])) },
    };
  },
};
