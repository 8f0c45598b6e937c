// Per-command overhead of `transport: ssh`: a few hundred short commands (`true`) through SshTransport.run on its held
// connection, against a bare ssh2 exec of `true` on another held connection to the same sshd (the floor), against the
// remote wrapper alone on that connection (ssh2_wrapper), and against LocalTransport. The workspace holds
// WORKSPACE_FILES files and stays unchanged, the common case (an agent's turn changes files once; its gates change
// nothing). What SshTransport does per command besides the wrapper: the host check (a sync point on orc's inotify
// watch of the host copy, no walk), the process's barrier file on the remote and its event read back from the
// connection's inotifywait (no `find`, no other remote program), and the transport's own plumbing. The first command
// (the full copy, the watchers' start, a full pull) is in the warmup. The series alternate command by command, each
// round starting at the next series, so drift and what ran just before hit them alike; between its commands,
// SshTransport opens the next one's channel (process-channels.ts). ssh_burst: the same commands back to back, each
// waiting for the channel the one before opened. `npm run build` first, then `node bench/run.mjs ssh`; prints one
// JSON line. Target: ratio_bare <= 1.2.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "ssh2";
import { LocalTransport } from "../dist/transports/local.js";
import { SshTransport } from "../dist/transports/ssh/transport.js";
import { wrapperCommand, wrapperLine } from "../dist/transports/ssh/wrapper.js";
import { interleave, median, round, scratch } from "./lib.mjs";
import { SSH_USER, startSshd } from "./sshd.mjs";

const COMMANDS = 300;
const WARMUP = 20;
const WORKSPACE_FILES = 200;
const BURST = 220;

function bareExec(client, command = "true", stdin = undefined) {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      let code = null;
      let signal = null;
      stream.on("exit", (c, s) => { code = c; signal = s ?? null; });
      // The wrapper ends by killing its own group (signal KILL, after reporting its status on stderr).
      stream.on("close", () => (code === 0 || signal === "SIGKILL" ? resolve() : reject(new Error(`exit ${code} ${signal}`))));
      stream.resume();
      stream.stderr.resume();
      stream.end(stdin);
    });
  });
}

export async function run() {
  const sshd = await startSshd();
  const dir = scratch("orc-bench-ssh-");
  const client = new Client();
  const workspace = join(dir, "ws");
  const target = { host: "127.0.0.1", port: sshd.port, user: SSH_USER, keyFile: sshd.keyFile, knownHostsFile: sshd.knownHosts };
  const transport = new SshTransport({ target, hostWorkspace: workspace, remoteWorkspace: `~/bench-ssh-${process.pid}`, skip: [], promptDir: join(dir, "prompts") });
  try {
    for (let d = 0; d < 10; d++) {
      mkdirSync(join(workspace, `d${d}`), { recursive: true });
      for (let f = 0; f < WORKSPACE_FILES / 10; f++) writeFileSync(join(workspace, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`);
    }
    await new Promise((resolve, reject) => {
      // TCP_NODELAY as SshConnection sets it, so both series send their small packets alike.
      client.once("ready", () => { client.setNoDelay(true); resolve(); }).once("error", reject);
      client.connect({ host: "127.0.0.1", port: sshd.port, username: SSH_USER, privateKey: readFileSync(sshd.keyFile), hostVerifier: () => true });
    });
    const spec = { command: "true", cwd: workspace, env: { LANG: "C.UTF-8" } };
    const local = new LocalTransport();
    const check = (outcome) => {
      if (outcome.exitCode !== 0) throw new Error(`${outcome.end} ${outcome.exitCode}: ${outcome.error ?? outcome.outputTail}`);
    };
    // SshTransport's remote wrapper alone, without the workspace check (no workspace): what the check costs is the
    // difference between `ssh` and this, what the wrapper costs the difference between this and `ssh2_bare`.
    // The bench user's login shell is /bin/sh: the wrapper runs in it directly, as SshTransport runs it there.
    const wrapperOnly = wrapperCommand("0", true, "/tmp/bench.orc-sync");
    const wrapperInput = wrapperLine({ cwd: "/tmp", workspace: "", meta: "/tmp", shell: true, stdin: false, command: "true", args: [] }, spec.env);
    // The first command: the full copy, both watchers' start and the first (full) pull; one sample, for scale.
    const firstStart = performance.now();
    check(await transport.run(spec));
    const first = performance.now() - firstStart;
    const series = {
      ssh: async () => check(await transport.run(spec)),
      ssh2_wrapper: () => bareExec(client, wrapperOnly, wrapperInput),
      ssh2_bare: () => bareExec(client),
      local: async () => check(await local.run(spec)),
    };
    const { median_ms: medians, p95_ms: p95 } = await interleave(series, { runs: COMMANDS, warmup: WARMUP, rotate: true });
    // The same commands one right after another: each finds the channel opened for it after the one before still
    // opening (process-channels.ts), so this is what a burst of short commands costs each.
    const burst = [];
    for (let i = 0; i < BURST; i++) {
      const start = performance.now();
      await series.ssh();
      burst.push(performance.now() - start);
    }
    return {
      bench: "ssh",
      commands: COMMANDS,
      workspace_files: WORKSPACE_FILES,
      median_ms: medians,
      p95_ms: p95,
      ratio_bare: round(medians.ssh / medians.ssh2_bare, 2),
      ssh_burst_median_ms: round(median(burst.slice(WARMUP)), 2),
      ratio_bare_burst: round(median(burst.slice(WARMUP)) / medians.ssh2_bare, 2),
      ratio_wrapper: round(medians.ssh2_wrapper / medians.ssh2_bare, 2),
      ratio_local: round(medians.ssh / medians.local, 2),
      first_command_ms: round(first, 1),
      target: "ratio_bare <= 1.2",
    };
  } finally {
    await transport.close();
    // The run's remote copy is kept by design (a resume reuses it); a bench's is of no use afterwards.
    await bareExec(client, `rm -rf ~/bench-ssh-${process.pid} ~/bench-ssh-${process.pid}.orc-sync ~/bench-ssh-${process.pid}.tasks`).catch(() => undefined);
    client.end();
    sshd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run()));
