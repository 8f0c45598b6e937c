import type { Failure } from "../core/failure.js";
import type { Pipeline, Settings } from "../core/pipeline.js";
import type { Result } from "../core/result.js";
import type { GitRunner } from "../rules/packs.js";

/** git for fetching packs: through the one supervisor, isolated from the user's git configuration, never prompting. */
export async function packGit(): Promise<GitRunner> {
  const { LocalTransport } = await import("../transports/local.js");
  const transport = new LocalTransport();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    // No `ext::` (runs a command) or other exotic transports: a pack URL only ever fetches.
    GIT_ALLOW_PROTOCOL: "file:git:http:https:ssh",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    LC_ALL: "C",
  };
  for (const key of ["SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return async (args, cwd) => {
    const full = args[0] === "init" ? [...args] : ["--git-dir", cwd, ...args];
    const outcome = await transport.run({ command: "git", args: full, cwd, env, timeoutMs: 120_000, maxOutputBytes: 4 * 1024 * 1024 });
    if (outcome.end !== "exited" || outcome.exitCode !== 0) {
      const why = outcome.stderrTail.trim().split("\n").at(-1) ?? "";
      throw new Error(`git ${args[0] ?? ""} failed${why !== "" ? `: ${why}` : ` (${outcome.end})`}`);
    }
    return outcome.stdoutTail;
  };
}

/** The pipeline with its rules resolved (packs fetched, precedence applied), as the run stores it. */
export async function withRules(pipeline: Pipeline, settings: Settings): Promise<Result<Pipeline, Failure>> {
  const { resolveRules } = await import("../rules/packs.js");
  const resolved = await resolveRules(pipeline, settings, await packGit());
  if (!resolved.ok) return resolved;
  return { ok: true, value: { ...pipeline, ...resolved.value.pipeline, rules: resolved.value.rules, packs: resolved.value.packs } };
}
