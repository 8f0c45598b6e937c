// A throwaway sshd on 127.0.0.1 for the ssh bench, as tests/helpers/sshd.ts starts one for the tests: its own host
// key, a client key, a dedicated user (made if missing). Needs root, like the tests.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { scratch } from "./lib.mjs";

export const SSH_USER = "orc-ssh-test";

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const answers = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("data", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });

export async function startSshd() {
  if (spawnSync("id", [SSH_USER]).status !== 0) spawnSync("useradd", ["-m", "-s", "/bin/sh", SSH_USER]);
  execFileSync("usermod", ["-p", "*", SSH_USER]);
  mkdirSync("/run/sshd", { recursive: true });
  const dir = scratch("orc-bench-sshd-");
  chmodSync(dir, 0o755);
  for (const name of ["host_key", "client_key"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o644 });
  const port = await freePort();
  const [type, key] = readFileSync(join(dir, "host_key.pub"), "utf8").split(" ");
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${type} ${key}\n`);
  const config = [
    `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`, "PidFile none", "UsePAM no",
    "PasswordAuthentication no", "PubkeyAuthentication yes", `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "StrictModes no", `AllowUsers ${SSH_USER}`, "Subsystem sftp internal-sftp", "LogLevel ERROR",
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), `${config}\n`);
  const child = spawn("setpriv", ["--pdeathsig", "TERM", "/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  for (let i = 0; i < 200 && !(await answers(port)); i++) await new Promise((r) => setTimeout(r, 25));
  return {
    port,
    keyFile: join(dir, "client_key"),
    knownHosts: join(dir, "known_hosts"),
    stop() {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
