import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The remote user of the ssh tests: a real account, made once (idempotently) by whichever test file starts first. */
export const SSH_USER = "orc-ssh-test";

/** Creates the test user if missing; `usermod -p '*'` keeps it from counting as locked when sshd runs with UsePAM no. */
export function ensureSshUser(): void {
  // Test files start in parallel: useradd may find /etc/passwd locked by the other one, or the user just made by it.
  for (let attempt = 0; spawnSync("id", [SSH_USER]).status !== 0; attempt++) {
    const made = spawnSync("useradd", ["-m", "-s", "/bin/sh", SSH_USER], { encoding: "utf8" });
    if (made.status === 0) break;
    if (attempt >= 20) throw new Error(`useradd failed: ${made.stderr}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  for (let attempt = 0; spawnSync("usermod", ["-p", "*", SSH_USER]).status !== 0; attempt++) {
    if (attempt >= 20) throw new Error(`usermod -p '*' ${SSH_USER} failed`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

/** Processes of the test user (pgrep -u), with their command lines: what a remote run left behind. */
export function remoteProcesses(pattern: string): string[] {
  const out = spawnSync("pgrep", ["-a", "-u", SSH_USER, "-f", pattern], { encoding: "utf8" });
  return out.stdout.split("\n").filter((line) => line.trim() !== "");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function keygen(file: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "orc-test", "-f", file]);
  return readFileSync(`${file}.pub`, "utf8").trim();
}

/** A banner from the port: sshd is listening. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("data", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => { resolve(false); });
  });
}

/**
 * A real sshd on 127.0.0.1 with its own host key and a client key for the test user, in a temporary directory:
 * `knownHosts` holds the host key (as `[127.0.0.1]:PORT`), `otherKnownHosts` a different key for the same name.
 */
export class TestSshd {
  readonly dir: string;
  readonly keyFile: string;
  readonly knownHosts: string;
  readonly otherKnownHosts: string;
  /** The host key's SHA256 fingerprint, as ssh-keygen -lf prints it. */
  readonly fingerprint: string;
  port = 0;
  private child: ChildProcess | undefined;
  private readonly hostPub: string;

  constructor() {
    ensureSshUser();
    mkdirSync("/run/sshd", { recursive: true });
    this.dir = mkdtempSync(join(tmpdir(), "orc-sshd-"));
    // sshd reads authorized_keys as the user: the directory must let it in (the private keys stay 0600).
    chmodSync(this.dir, 0o755);
    this.hostPub = keygen(join(this.dir, "host_key"));
    const clientPub = keygen(join(this.dir, "client_key"));
    keygen(join(this.dir, "other_key"));
    this.keyFile = join(this.dir, "client_key");
    writeFileSync(join(this.dir, "authorized_keys"), `${clientPub}\n`, { mode: 0o644 });
    this.knownHosts = join(this.dir, "known_hosts");
    this.otherKnownHosts = join(this.dir, "other_known_hosts");
    this.fingerprint = execFileSync("ssh-keygen", ["-lf", join(this.dir, "host_key.pub")], { encoding: "utf8" }).split(" ")[1] ?? "";
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const [type, key] = this.hostPub.split(" ");
    writeFileSync(this.knownHosts, `[127.0.0.1]:${String(this.port)} ${type ?? ""} ${key ?? ""}\n`);
    const [otype, okey] = readFileSync(join(this.dir, "other_key.pub"), "utf8").split(" ");
    writeFileSync(this.otherKnownHosts, `[127.0.0.1]:${String(this.port)} ${otype ?? ""} ${okey ?? ""}\n`);
    const config = join(this.dir, "sshd_config");
    writeFileSync(
      config,
      [
        `Port ${String(this.port)}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(this.dir, "host_key")}`,
        `PidFile none`,
        "UsePAM no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        `AuthorizedKeysFile ${join(this.dir, "authorized_keys")}`,
        // The key lives under /tmp (world-writable): StrictModes would refuse it.
        "StrictModes no",
        `AllowUsers ${SSH_USER}`,
        "Subsystem sftp internal-sftp",
        "LogLevel ERROR",
      ].join("\n") + "\n",
    );
    // setpriv --pdeathsig: sshd dies with the test process, whatever happens to it.
    this.child = spawn("setpriv", ["--pdeathsig", "TERM", "/usr/sbin/sshd", "-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    this.child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    for (let i = 0; i < 200; i++) {
      if (await answers(this.port)) return;
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`sshd did not start: ${stderr}`);
  }

  /**
   * Kills the sshd processes serving connections (each connection's monitor and its unprivileged child, not the
   * listener), as a network failure would: every open connection drops at once; the remote commands are left alone.
   */
  dropConnections(): number {
    const pid = this.child?.pid;
    if (pid === undefined) return 0;
    const serving: string[] = [];
    const visit = (parent: string): void => {
      const rows = spawnSync("ps", ["-o", "pid=,comm=", "--ppid", parent], { encoding: "utf8" }).stdout.split("\n");
      for (const row of rows) {
        const [child, comm] = row.trim().split(/\s+/);
        if (child === undefined || child === "" || comm !== "sshd") continue;
        serving.push(child);
        visit(child);
      }
    };
    visit(String(pid));
    for (const child of serving) spawnSync("kill", ["-KILL", child]);
    return serving.length;
  }

  /** The yaml of `transport:` for this server (known_hosts: the right one unless told otherwise). */
  transportYaml(extra: Record<string, string> = {}): string {
    const fields = { kind: "ssh", host: "127.0.0.1", port: String(this.port), user: SSH_USER, key: this.keyFile, known_hosts: this.knownHosts, ...extra };
    return `{${Object.entries(fields).map(([k, v]) => `${k}: ${k === "port" ? v : JSON.stringify(v)}`).join(", ")}}`;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined && child.exitCode === null) {
      // The connections' sshd processes share the listener's stderr pipe: they go first, then the listener; its exit
      // (not the pipe's close) is what is waited for.
      this.dropConnections();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
