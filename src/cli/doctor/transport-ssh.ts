import type { SshTransportSpec } from "../../core/pipeline.js";
import { SshConnection } from "../../transports/ssh/connection.js";
import { sshTarget } from "../../transports/ssh/setup.js";
import type { CheckResult, DoctorContext } from "./check.js";

/** What the ssh transport needs on the remote: a POSIX sh, tar, GNU find's -printf, cmp and xargs -0. */
const PROBE = "command -v tar >/dev/null && command -v cmp >/dev/null && command -v xargs >/dev/null && find . -maxdepth 0 -printf '' && echo ok";
/** Optional: the remote watcher's program (src/transports/ssh/remote-watch.ts); without it each process checks with `find`. */
const WATCHER = "command -v inotifywait >/dev/null && echo watch";

/**
 * `transport: ssh`: the host answers, its key is the one known_hosts holds (or the pinned one), the key or the
 * ssh-agent is accepted, and a remote `true` and the tools the workspace sync uses run there.
 */
export async function checkSsh(ctx: DoctorContext, spec: SshTransportSpec): Promise<CheckResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(ctx.env)) if (value !== undefined) env[key] = value;
  const target = sshTarget(spec, env);
  const where = `${target.user}@${target.host}:${String(target.port)}`;
  const started = performance.now();
  let conn: SshConnection;
  try {
    conn = await SshConnection.open(target);
  } catch (error) {
    return { status: "fail", detail: (error as Error).message, data: { kind: "ssh", host: where, connected: false } };
  }
  try {
    const trial = await conn.capture(`true && ${PROBE} && { ${WATCHER}; true; }`);
    const ms = Math.round(performance.now() - started);
    if (trial.code !== 0 || !trial.stdout.toString().includes("ok")) {
      return { status: "fail", detail: `ssh ${where}: connected, but the remote lacks sh, tar, cmp, xargs or GNU find (-printf): ${trial.stderr.trim().split("\n")[0] ?? ""}`, data: { kind: "ssh", host: where, connected: true, tools: false } };
    }
    const watcher = trial.stdout.toString().includes("watch");
    const note = watcher ? "inotifywait found (changes are watched)" : "no inotifywait (each process checks the workspace with find: install inotify-tools there for the faster path)";
    return { status: "ok", detail: `ssh ${where}: host key verified, authenticated, a remote process ran (${String(ms)}ms); ${note}`, data: { kind: "ssh", host: where, connected: true, tools: true, watcher, ms } };
  } catch (error) {
    return { status: "fail", detail: `ssh ${where}: ${(error as Error).message}`, data: { kind: "ssh", host: where, connected: true } };
  } finally {
    conn.close();
  }
}
