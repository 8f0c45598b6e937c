import type { GitRunner } from "../config/index.js";
import type { Transport } from "../transports/port.js";

/**
 * git for fetching rule packs (`orc apply`): through the one supervisor, isolated from the user's git configuration,
 * never prompting. The transport is loaded on the first git command, so a run that uses no git pack never loads it.
 */
export function packGit(): GitRunner {
  let transport: Transport | undefined;
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
    transport ??= new (await import("../transports/local.js")).LocalTransport();
    const full = args[0] === "init" ? [...args] : ["--git-dir", cwd, ...args];
    const outcome = await transport.run({ command: "git", args: full, cwd, env, timeoutMs: 120_000, maxOutputBytes: 4 * 1024 * 1024 });
    if (outcome.end !== "exited" || outcome.exitCode !== 0) {
      const why = outcome.stderrTail.trim().split("\n").at(-1) ?? "";
      throw new Error(`git ${args[0] ?? ""} failed${why !== "" ? `: ${why}` : ` (${outcome.end})`}`);
    }
    return outcome.stdoutTail;
  };
}
