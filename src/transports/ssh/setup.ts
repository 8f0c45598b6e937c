/** From `transport: {kind: ssh, ...}` and the run's context to an SshTransport: paths, the user, the credentials. */
import { userInfo } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import type { SshTransportSpec } from "../../core/pipeline.js";
import type { TransportContext } from "../port.js";
import type { SshTarget } from "./connection.js";
import { SshTransport } from "./transport.js";

/** `~/x` against the home orc runs with; other paths are absolute already (config made them so). */
export function expandHome(path: string, env: Readonly<Record<string, string>>): string {
  const home = env.HOME ?? userInfo().homedir;
  if (path === "~") return home;
  return path.startsWith("~/") ? join(home, path.slice(2)) : path;
}

export function sshTarget(spec: SshTransportSpec, env: Readonly<Record<string, string>>): SshTarget {
  const passphrase = spec.passphraseEnv === undefined ? undefined : env[spec.passphraseEnv];
  const agentSocket = env.SSH_AUTH_SOCK;
  return {
    host: spec.host,
    port: spec.port,
    user: spec.user ?? env.USER ?? userInfo().username,
    ...(spec.key === undefined ? {} : { keyFile: expandHome(spec.key, env) }),
    ...(passphrase === undefined ? {} : { passphrase }),
    ...(agentSocket === undefined || spec.key !== undefined ? {} : { agentSocket }),
    knownHostsFile: expandHome(spec.knownHosts, env),
    ...(spec.fingerprint === undefined ? {} : { fingerprint: spec.fingerprint }),
  };
}

export function sshTransportFor(spec: SshTransportSpec, ctx: TransportContext): SshTransport {
  const rel = relative(ctx.workspace, ctx.stateDir);
  const stateInside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  return new SshTransport({
    target: sshTarget(spec, ctx.env),
    hostWorkspace: ctx.workspace,
    ...(spec.workspace === undefined ? {} : { remoteWorkspace: spec.workspace }),
    skip: stateInside ? [rel] : [],
    promptDir: ctx.promptDir,
  });
}

/** Variables passed to remote processes by default; the others only when named in `transport.env` (or agent.env). */
const BASE_ENV = ["LANG", "LANGUAGE", "TERM", "TZ", "CI", "NO_COLOR", "FORCE_COLOR"];

export function sshEnv(host: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(host)) {
    if (BASE_ENV.includes(key) || key.startsWith("LC_") || names.includes(key)) out[key] = value;
  }
  return out;
}
