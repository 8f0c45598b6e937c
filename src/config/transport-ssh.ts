import { isAbsolute, resolve } from "node:path";
import type { SshTransportSpec } from "../core/pipeline.js";
import { q, type Path } from "./describe.js";
import type { RawTransport } from "./schema/transport.js";
import type { Scope } from "./scope.js";

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
/** Settings that only the sandbox reads. */
const SANDBOX_ONLY = ["network", "home"] as const;

/**
 * Normalises `transport: {kind: ssh, ...}`. The shape is already checked by the schema; here: the required host, a
 * fingerprint in the form `ssh-keygen -lf` prints, and paths: `~/` stays for the home at run time, a relative path
 * resolves against the file's directory.
 */
export function readSshTransport(raw: RawTransport, path: Path, scope: Scope): SshTransportSpec | undefined {
  if (typeof raw === "string" || raw.host === undefined) {
    scope.out.error("transport-ssh-host", "transport ssh needs a host: `transport: {kind: ssh, host: HOST, user: USER}`", typeof raw === "string" ? path : [...path, "kind"]);
    return undefined;
  }
  for (const key of SANDBOX_ONLY) {
    if (raw[key] !== undefined) scope.out.warning("transport-setting-ignored", `${q(key)} has no effect on the ssh transport`, [...path, key], "key");
  }
  let ok = true;
  if (raw.fingerprint !== undefined && !FINGERPRINT.test(raw.fingerprint)) {
    scope.out.error("transport-ssh-fingerprint", `fingerprint ${q(raw.fingerprint)} is not a SHA256 host key fingerprint (SHA256: and 43 base64 characters, as \`ssh-keygen -lf KEYFILE\` prints it)`, [...path, "fingerprint"]);
    ok = false;
  }
  if (raw.workspace !== undefined && !remoteDirOk(raw.workspace)) {
    scope.out.error("transport-ssh-workspace", `workspace ${q(raw.workspace)} must be a dedicated directory: an absolute path or one under ~/, not / or ~ itself`, [...path, "workspace"]);
    ok = false;
  }
  if (!ok) return undefined;
  const dir = scope.dirs[scope.dirs.length - 1] ?? ".";
  return {
    kind: "ssh",
    host: raw.host,
    port: raw.port ?? 22,
    ...(raw.user === undefined ? {} : { user: raw.user }),
    ...(raw.key === undefined ? {} : { key: localPath(raw.key, dir) }),
    ...(raw.passphrase_env === undefined ? {} : { passphraseEnv: raw.passphrase_env }),
    knownHosts: raw.known_hosts === undefined ? "~/.ssh/known_hosts" : localPath(raw.known_hosts, dir),
    ...(raw.fingerprint === undefined ? {} : { fingerprint: raw.fingerprint }),
    ...(raw.workspace === undefined ? {} : { workspace: raw.workspace.replace(/\/+$/, "") }),
    env: [...new Set(raw.env ?? [])],
  };
}

/** A path on this machine: `~/x` kept for the home at run time, relative ones made absolute against the file's directory. */
function localPath(value: string, dir: string): string {
  if (value === "~" || value.startsWith("~/") || isAbsolute(value)) return value;
  return resolve(dir, value);
}

/** orc replaces the remote workspace's contents: never the root or the home itself, never a relative path. */
function remoteDirOk(value: string): boolean {
  const clean = value.replace(/\/+$/, "");
  if (clean === "" || clean === "~" || clean.split("/").includes("..")) return false;
  return clean.startsWith("/") || clean.startsWith("~/");
}
