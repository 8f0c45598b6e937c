import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DockerTransportSpec } from "../src/core/pipeline.js";
import { LABEL_RUN } from "../src/transports/docker/container.js";
import { buildDockerTransport } from "../src/transports/docker/index.js";
import { DockerTransport } from "../src/transports/docker/transport.js";
import { DockerEngine } from "./helpers/docker-engine.js";

/**
 * DockerTransport.run against a real dockerd started here: the supervisor's contract (output, stdin, env, cwd, exit
 * code, timeouts that kill the whole tree inside), the container's settings, and a container killed under a process.
 */
const engine = new DockerEngine();
const IMAGE = "orc-test:busybox";
let dir: string;
let runs = 0;

beforeAll(async () => {
  await engine.start();
  await engine.buildImage(IMAGE);
  dir = mkdtempSync(join(tmpdir(), "orc-docker-ws-"));
}, 60_000);

afterAll(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

function transport(overrides: Partial<DockerTransportSpec> = {}): { transport: DockerTransport; workspace: string; runId: string } {
  const runId = `r-test-${String(++runs)}`;
  const workspace = join(dir, runId);
  mkdirSync(join(workspace, ".git"), { recursive: true });
  mkdirSync(join(dir, `${runId}-home`));
  const spec: DockerTransportSpec = { kind: "docker", image: IMAGE, network: "none", memory: 256 * 1024 ** 2, cpus: 1, pids: 64, env: [], ...overrides };
  const t = new DockerTransport(engine.docker, { spec, socket: engine.socket, workspace, readable: [], homeDir: join(dir, `${runId}-home`), runId, project: "test", user: overrides.user ?? "0:0" });
  return { transport: t, workspace, runId };
}

describe("docker transport: one process through docker exec", () => {
  it("streams stdout and stderr apart, passes stdin, env and the working directory, and gives the exit code", async () => {
    const { transport: t, workspace } = transport();
    try {
      const seen: string[] = [];
      const out = await t.run({
        command: 'pwd; echo "$GREETING $1"; cat; echo oops >&2; exit 3',
        args: ["world"],
        shell: true,
        cwd: workspace,
        env: { GREETING: "hello" },
        stdin: "from stdin\n",
        onStdout: (chunk) => seen.push(chunk),
      });
      expect(out.end).toBe("exited");
      expect(out.exitCode).toBe(3);
      expect(out.stdoutTail).toBe(`${workspace}\nhello world\nfrom stdin\n`);
      expect(out.stderrTail).toBe("oops\n");
      expect(seen.join("")).toBe(out.stdoutTail);
      expect(out.pid).toBeGreaterThan(1);
    } finally {
      await t.close();
    }
  });

  it("runs an argv without a shell, and keeps only the tail of a large output", async () => {
    const { transport: t, workspace } = transport();
    try {
      const argv = await t.run({ command: "echo", args: ["a b", "$HOME"], cwd: workspace, env: {} });
      expect(argv.stdoutTail).toBe("a b $HOME\n");
      const big = await t.run({ command: "seq 1 100000", shell: true, cwd: workspace, env: {}, maxOutputBytes: 1000 });
      expect(big.exitCode).toBe(0);
      expect(big.stdoutTail.endsWith("99999\n100000\n")).toBe(true);
      expect(Buffer.byteLength(big.stdoutTail)).toBeLessThanOrEqual(1000);
      expect(big.droppedBytes).toBeGreaterThan(500_000);
    } finally {
      await t.close();
    }
  });

  it("a timeout kills the whole process tree inside the container, background jobs included", async () => {
    const { transport: t, workspace } = transport();
    try {
      const out = await t.run({ command: "sleep 300 & sleep 301; echo never", shell: true, cwd: workspace, env: {}, timeoutMs: 500, killGraceMs: 500 });
      expect(out.end).toBe("timeout");
      expect(out.stdoutTail).toBe("");
      const left = await t.run({ command: "ps -o comm | grep -c '^sleep' || true", shell: true, cwd: workspace, env: {} });
      expect(left.stdoutTail.trim()).toBe("0");
    } finally {
      await t.close();
    }
  });

  it("a silent process is stopped as stalled, and an abort cancels it", async () => {
    const { transport: t, workspace } = transport();
    try {
      const stalled = await t.run({ command: "echo start; sleep 300", shell: true, cwd: workspace, env: {}, inactivityTimeoutMs: 400, killGraceMs: 200 });
      expect(stalled.end).toBe("stalled");
      expect(stalled.stdoutTail).toBe("start\n");
      const controller = new AbortController();
      setTimeout(() => {
        controller.abort();
      }, 300);
      const cancelled = await t.run({ command: "trap '' TERM; sleep 300", shell: true, cwd: workspace, env: {}, signal: controller.signal, killGraceMs: 300 });
      expect(cancelled.end).toBe("cancelled");
    } finally {
      await t.close();
    }
  });

  it("the container is never privileged, has no capabilities, no network, its limits, and .git read-only", async () => {
    const { transport: t, workspace, runId } = transport();
    writeFileSync(join(workspace, ".git", "config"), "[core]\n");
    try {
      const out = await t.run({
        command: "grep CapEff /proc/self/status; ls /sys/class/net; echo x >> .git/config || echo git-denied; echo y > file && echo ws-ok",
        shell: true,
        cwd: workspace,
        env: {},
      });
      expect(out.stdoutTail).toContain("CapEff:\t0000000000000000");
      expect(out.stdoutTail).toContain("lo\n");
      expect(out.stdoutTail).not.toContain("eth0");
      expect(out.stdoutTail).toContain("git-denied");
      expect(out.stdoutTail).toContain("ws-ok");
      const [info] = await engine.containers(`${LABEL_RUN}=${runId}`);
      const inspect = await engine.docker.getContainer(info?.Id ?? "").inspect();
      expect(inspect.HostConfig.Privileged).toBe(false);
      expect(inspect.HostConfig.Init).toBe(true);
      expect(inspect.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
      expect(inspect.HostConfig.Memory).toBe(256 * 1024 ** 2);
      expect(inspect.HostConfig.PidsLimit).toBe(64);
      expect(inspect.HostConfig.NanoCpus).toBe(1e9);
    } finally {
      await t.close();
    }
    // close() leaves nothing behind.
    expect(await engine.containers(`${LABEL_RUN}=${runId}`)).toEqual([]);
  });

  it("a container killed under a process ends it transport-lost; the next process gets a fresh container", async () => {
    const { transport: t, workspace, runId } = transport();
    try {
      const first = await t.run({ command: "hostname", shell: true, cwd: workspace, env: {} });
      const pending = t.run({ command: "echo started; sleep 300", shell: true, cwd: workspace, env: {} });
      await new Promise((r) => setTimeout(r, 500));
      const [info] = await engine.containers(`${LABEL_RUN}=${runId}`);
      await engine.docker.getContainer(info?.Id ?? "").kill();
      const lost = await pending;
      expect(lost.end).toBe("transport-lost");
      expect(lost.error).toMatch(/container/);
      const again = await t.run({ command: "hostname", shell: true, cwd: workspace, env: {} });
      expect(again.end).toBe("exited");
      expect(again.stdoutTail).not.toBe(first.stdoutTail);
    } finally {
      await t.close();
    }
  });

  it("processes run as the workspace's owner by default (files stay theirs, the home is theirs), or as the configured user", async () => {
    const workspace = join(dir, "owned");
    const stateDir = join(dir, "owned-state");
    mkdirSync(workspace);
    chownSync(workspace, 1234, 1234);
    const spec: DockerTransportSpec = { kind: "docker", image: IMAGE, network: "none", memory: 256 * 1024 ** 2, cpus: 1, pids: 64, env: ["PASSED"], socket: engine.socket };
    const ctx = { workspace, stateDir, runId: "r-owned", env: { PASSED: "yes", OTHER: "no", PATH: "/host/only" }, promptDir: join(stateDir, "runs", "r-owned", "prompts"), scratchDir: join(stateDir, "runs", "r-owned", "scratch") };
    const built = await buildDockerTransport(spec, ctx);
    try {
      const out = await built.transport.run({ command: 'id -u; id -g; echo "$PASSED-$OTHER-$HOME"; echo x > mine; echo y > $HOME/h; echo $PATH', shell: true, cwd: workspace, env: built.env });
      expect(out.stdoutTail.split("\n").slice(0, 3)).toEqual(["1234", "1234", "yes--/orc/home"]);
      expect(out.stdoutTail).not.toContain("/host/only");
      expect(statSync(join(workspace, "mine")).uid).toBe(1234);
      expect(statSync(join(stateDir, "runs", "r-owned", "home", "h")).uid).toBe(1234);
    } finally {
      await built.transport.close?.();
    }
    const { transport: t, workspace: other } = transport({ user: "1000:1000" });
    try {
      const out = await t.run({ command: "id -u; touch denied 2>/dev/null || echo cannot-write", shell: true, cwd: other, env: {} });
      expect(out.stdoutTail).toBe("1000\ncannot-write\n");
    } finally {
      await t.close();
    }
  });

  it("a missing image, a missing directory and a missing engine are clear errors", async () => {
    const { transport: t, workspace } = transport({ image: "orc-test:absent" });
    const out = await t.run({ command: "true", cwd: workspace, env: {} });
    expect(out.end).toBe("spawn-error");
    expect(out.error).toContain('docker image "orc-test:absent" is not in the engine');
    await t.close();
    const { transport: u } = transport();
    try {
      const cwd = await u.run({ command: "true", cwd: "/no/such/dir", env: {} });
      expect(cwd.end).toBe("spawn-error");
      expect(cwd.error).toMatch(/no such file or directory|chdir/i);
    } finally {
      await u.close();
    }
    const nowhere = join(dir, "no-engine.sock");
    const spec: DockerTransportSpec = { kind: "docker", image: IMAGE, network: "none", memory: 256 * 1024 ** 2, cpus: 1, pids: 64, env: [] };
    const v = new DockerTransport(new Docker({ socketPath: nowhere }), { spec, socket: nowhere, workspace, readable: [], homeDir: dir, runId: "r-none", project: "test", user: "0:0" });
    const none = await v.run({ command: "true", cwd: workspace, env: {} });
    expect(none.end).toBe("spawn-error");
    expect(none.error).toContain(`docker engine at ${nowhere} did not answer`);
    await v.close();
  });
});

describe("docker transport: the engine itself goes away", () => {
  const crashing = new DockerEngine();
  beforeAll(async () => {
    await crashing.start();
    await crashing.buildImage(IMAGE);
  }, 60_000);
  afterAll(async () => {
    await crashing.stop();
  }, 30_000);

  it("an engine that dies under a process ends it transport-lost, and later processes say the engine does not answer", async () => {
    const workspace = join(dir, "crash");
    mkdirSync(workspace);
    const spec: DockerTransportSpec = { kind: "docker", image: IMAGE, network: "none", memory: 256 * 1024 ** 2, cpus: 1, pids: 64, env: [] };
    const t = new DockerTransport(crashing.docker, { spec, socket: crashing.socket, workspace, readable: [], homeDir: workspace, runId: "r-crash", project: "test", user: "0:0" });
    // A short sleep: the engine's shim outlives the engine, and nothing should linger after the test.
    const pending = t.run({ command: "echo started; sleep 3", shell: true, cwd: workspace, env: {} });
    await new Promise((r) => setTimeout(r, 700));
    crashing.crash();
    const lost = await pending;
    expect(lost.end).toBe("transport-lost");
    const next = await t.run({ command: "true", cwd: workspace, env: {} });
    expect(next.end).toBe("spawn-error");
    expect(next.error).toContain("did not answer");
    await t.close();
  });
});
