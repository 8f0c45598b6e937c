/**
 * known_hosts, as OpenSSH writes it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `[marker] patterns keytype base64 [comment]`,
 * patterns plain (`host`, `[host]:port`, with `*`, `?` and `!negation`) or hashed (`|1|salt|hmac-sha1(salt, name)`).
 * A host key is accepted when a line for the host holds exactly that key; a line for the host with another key means
 * the key changed; `@revoked` refuses a key outright; `@cert-authority` lines are not host keys and are skipped.
 */
import { createHash, createHmac } from "node:crypto";

export interface KnownKey {
  readonly type: string;
  readonly blob: Buffer;
  readonly revoked: boolean;
}

export type HostKeyVerdict =
  | { readonly ok: true; readonly via: "known_hosts" | "fingerprint" }
  | { readonly ok: false; readonly reason: "unknown" | "changed" | "revoked" };

/** The name known_hosts stores for a host: `host` on port 22, `[host]:port` otherwise. */
export function hostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${String(port)}`;
}

/** `SHA256:` and the unpadded base64 of the key blob's SHA-256, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The keys known_hosts holds for host:port (every line whose patterns match it). */
export function knownKeys(text: string, host: string, port: number): KnownKey[] {
  const name = hostName(host, port);
  const keys: KnownKey[] = [];
  for (const raw of text.split("\n")) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === "" || fields[0].startsWith("#")) continue;
    let marker: string | undefined;
    if (fields[0].startsWith("@")) marker = fields.shift();
    if (marker === "@cert-authority") continue;
    if (fields.length < 3) continue;
    const [patterns, type, base64] = fields as [string, string, string];
    if (!matches(patterns, name)) continue;
    keys.push({ type, blob: Buffer.from(base64, "base64"), revoked: marker === "@revoked" });
  }
  return keys;
}

/** Whether `name` matches a comma-separated pattern list: one positive match and no negated one. */
function matches(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) return hashedMatch(patterns, name);
  let hit = false;
  for (const pattern of patterns.split(",")) {
    const negated = pattern.startsWith("!");
    if (!glob(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}

function hashedMatch(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split("|");
  if (salt === undefined || hash === undefined) return false;
  return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
}

/** OpenSSH's patterns: `*` any run, `?` one character; host names compare case-insensitively. */
function glob(pattern: string, name: string): boolean {
  const source = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(name.toLowerCase());
}

/** The verdict on the key a server offered, given what known_hosts holds for it and the optional pinned fingerprint. */
export function judgeHostKey(offered: Buffer, known: readonly KnownKey[], pinned: string | undefined): HostKeyVerdict {
  if (known.some((k) => k.revoked && k.blob.equals(offered))) return { ok: false, reason: "revoked" };
  if (pinned !== undefined && fingerprintOf(offered) === pinned.replace(/=+$/, "")) return { ok: true, via: "fingerprint" };
  if (known.some((k) => !k.revoked && k.blob.equals(offered))) return { ok: true, via: "known_hosts" };
  return { ok: false, reason: known.some((k) => !k.revoked) ? "changed" : "unknown" };
}

/** ssh2's host key algorithm names for the key types known_hosts lists, so the server is asked for a key we can check. */
export function hostKeyAlgorithms(known: readonly KnownKey[]): string[] {
  const out: string[] = [];
  for (const { type, revoked } of known) {
    if (revoked) continue;
    const names = type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
    for (const n of names) if (!out.includes(n)) out.push(n);
  }
  return out;
}
