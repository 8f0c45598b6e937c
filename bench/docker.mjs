// Per-command overhead of `transport: docker`: a few hundred short commands (`true`) through DockerTransport.run,
// against a bare dockerode exec in the same container (create, start, read the stream to its end, inspect for the
// exit code: what any exec-based runner must do), and against LocalTransport. The series alternate command by
// command, so drift hits them alike. It starts its own dockerd (Debian's docker.io) on a socket in a scratch folder and
// imports a busybox-static image (no registry). Run `npm run build` first, then `node bench/docker.mjs`; prints one
// JSON line. Target: ratio_exec (docker / bare exec) <= 1.2.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import { DockerTransport } from "../dist/transports/docker/transport.js";
import { LocalTransport } from "../dist/transports/local.js";
import { interleave, round, scratch } from "./lib.mjs";

const COMMANDS = 300;
const WARMUP = 20;
const IMAGE = "orc-bench:busybox";

async function startEngine(dir) {
  const socket = join(dir, "d.sock");
  const daemon = spawn("setpriv", ["--pdeathsig", "TERM", "dockerd", "--data-root", join(dir, "data"), "--exec-root", join(dir, "x"), "-H", `unix://${socket}`, "--iptables=false", "--bridge=none", "--pidfile", join(dir, "d.pid")], { stdio: "ignore" });
  const docker = new Docker({ socketPath: socket });
  for (let i = 0; ; i++) {
    try {
      await docker.ping();
      break;
    } catch (err) {
      if (i > 300 || daemon.exitCode !== null) throw new Error(`dockerd did not start: ${err.message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const root = join(dir, "rootfs");
  for (const d of ["bin", "etc", "tmp"]) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const applet of spawnSync("/bin/busybox", ["--list"], { encoding: "utf8" }).stdout.split("\n")) {
    if (applet !== "" && applet !== "busybox") symlinkSync("busybox", join(root, "bin", applet));
  }
  writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  const tar = spawn("tar", ["-C", root, "-cf", "-", "."], { stdio: ["ignore", "pipe", "inherit"] });
  const progress = await docker.importImage(tar.stdout, { repo: "orc-bench", tag: "busybox" });
  await new Promise((resolve, reject) => docker.modem.followProgress(progress, (err) => (err ? reject(err) : resolve())));
  return { docker, socket, daemon };
}

/** A bare exec: no wrapper, no demultiplexing into tails, no watchdogs. */
async function bareExec(container, workspace) {
  const exec = await container.exec({ Cmd: ["true"], WorkingDir: workspace, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
    stream.resume();
  });
  const info = await exec.inspect();
  if (info.ExitCode !== 0) throw new Error(`bare exec exited ${info.ExitCode}`);
}

export async function run() {
  const dir = scratch("orc-bench-docker-");
  let engine;
  let transport;
  try {
    engine = await startEngine(dir);
    const workspace = join(dir, "ws");
    mkdirSync(join(dir, "home"), { recursive: true });
    mkdirSync(workspace, { recursive: true });
    const spec = { kind: "docker", image: IMAGE, network: "none", memory: 512 * 1024 ** 2, cpus: 1, pids: 128, env: [] };
    transport = new DockerTransport(engine.docker, { spec, socket: engine.socket, workspace, readable: [], homeDir: join(dir, "home"), runId: "r-bench", project: "bench", user: "0:0" });
    const local = new LocalTransport();
    const run = { command: "true", cwd: workspace, env: {} };
    const check = (outcome) => {
      if (outcome.exitCode !== 0) throw new Error(`exited ${outcome.exitCode} (${outcome.end}): ${outcome.error ?? outcome.outputTail}`);
    };
    check(await transport.run(run));
    const [info] = await engine.docker.listContainers({ filters: { label: ["orc.run=r-bench"] } });
    const container = engine.docker.getContainer(info.Id);
    const series = {
      docker: async () => check(await transport.run(run)),
      bare_exec: () => bareExec(container, workspace),
      local: async () => check(await local.run({ ...run, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } })),
    };
    const { median_ms: medians, p95_ms: p95 } = await interleave(series, { runs: COMMANDS, warmup: WARMUP });
    return {
      bench: "docker",
      commands: COMMANDS,
      median_ms: medians,
      p95_ms: p95,
      ratio_exec: round(medians.docker / medians.bare_exec, 2),
      ratio_local: round(medians.docker / medians.local, 2),
      target: "ratio_exec <= 1.2",
    };
  } finally {
    await transport?.close();
    if (engine !== undefined) {
      const exited = new Promise((r) => engine.daemon.once("exit", r));
      engine.daemon.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    spawnSync("sh", ["-c", `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run()));
