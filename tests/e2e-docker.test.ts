import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { projectLabel } from "../src/transports/docker/index.js";
import { DockerEngine } from "./helpers/docker-engine.js";
import { FakeAnthropic } from "./helpers/fake-anthropic.js";
import { LoopbackServer } from "./helpers/loopback-server.js";
import { REPO, Rig } from "./helpers/rig.js";

/**
 * `transport: docker` through `orc apply`, against a real dockerd the test setup starts on a socket of its own, with an
 * image imported from a busybox-static rootfs plus the host's node (no registry). The agent writes what each probe saw
 * into the workspace (`probes.txt`); the test checks the host side too.
 */
const engine = new DockerEngine();
const IMAGE = "orc-test:node";
const PROJECT_LABEL = "orc.project";
const CLAUDE_IMAGE = "orc-test:claude";
const KEY = "sk-docker-test-key-9f3a";

// A probe line per attempt: "NAME: allowed" when the command succeeded inside the container, else "NAME: denied".
const PROBE = `probe() { if sh -c "$2" >/dev/null 2>&1; then echo "$1: allowed" >> probes.txt; else echo "$1: denied" >> probes.txt; fi; }`;

beforeAll(async () => {
  await engine.start();
  await engine.buildImage(IMAGE, { node: true });
}, 120_000);

afterAll(async () => {
  await engine.stop();
}, 30_000);

describe("transport: docker", () => {
  let rig: Rig;
  const server = new LoopbackServer();
  let hits = 0;
  let port = 0;

  beforeEach(async () => {
    rig = new Rig("orc-docker-");
    spawnSync("git", ["init", "-q"], { cwd: rig.dir });
    writeFileSync(join(rig.home, "secret.txt"), "the user's secret\n");
    hits = 0;
    port = await server.start((_req, res) => {
      hits++;
      res.end("reached");
    });
  });

  afterEach(async () => {
    await server.stop();
    rig.cleanup();
  });

  const transport = (extra = ""): string => `{kind: docker, image: ${IMAGE}, socket: ${engine.socket}${extra}}`;

  function pipeline(transportYaml: string, agent: string, options: { gates?: string; attempts?: number } = {}): void {
    const gates = options.gates ?? "";
    rig.write(
      "pipeline.yaml",
      [
        `transport: ${transportYaml}`,
        "agent:",
        "  run: |",
        ...agent.split("\n").map((line) => `    ${line}`),
        "gates:",
        "  done:",
        "    run: test -f probes.txt",
        gates,
        "tasks:",
        "  - id: escape",
        "    prompt: try to get out",
        `    gates: [${gates === "" ? "done" : "done, inside"}]`,
        `    max_attempts: ${String(options.attempts ?? 1)}`,
      ].join("\n"),
    );
  }

  function probes(): Record<string, string> {
    return Object.fromEntries(rig.read("probes.txt").trim().split("\n").map((line) => line.split(": ") as [string, string]));
  }

  /** The per-run home orc keeps for the container (under the state directory): the run's only one. */
  function runHome(): string {
    const runs = join(rig.stateDir(), "runs");
    const [run] = readdirSync(runs);
    return join(runs, run ?? "", "home");
  }

  async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it("an agent cannot write outside its workspace, read the user's home, change .git, reach the host's loopback, or kill orc; the run goes on", async () => {
    const gitConfig = rig.read(".git/config");
    const inRepo = join(REPO, `.docker-probe-${String(process.pid)}`);
    pipeline(
      transport(),
      [
        PROBE,
        "for i in $(seq 100); do test -s orc.pid && break; sleep 0.05; done",
        `probe write-host 'echo x > ${inRepo}'`,
        `probe read-home 'cat ${join(rig.home, "secret.txt")}'`,
        "probe write-git 'echo \"[core]\" >> .git/config'",
        `probe loopback 'wget -q -T 3 -O- http://127.0.0.1:${String(port)}/'`,
        "probe kill-orc 'kill -TERM $(cat orc.pid)'",
        "probe write-workspace 'echo x > mine.txt'",
      ].join("\n"),
    );
    const orc = rig.start(["apply", "pipeline.yaml"]);
    writeFileSync(rig.path("orc.pid"), String(orc.child.pid));
    const code = await orc.finished();
    try {
      expect(orc.stderr).toBe("");
      expect(probes()).toEqual({
        "write-host": "denied",
        "read-home": "denied",
        "write-git": "denied",
        loopback: "denied",
        "kill-orc": "denied",
        "write-workspace": "allowed",
      });
      expect(existsSync(inRepo)).toBe(false);
      expect(rig.read(".git/config")).toBe(gitConfig);
      expect(hits).toBe(0);
      expect(code).toBe(0);
      expect(orc.stdout).toContain("[escape] accepted");
      expect(rig.read("mine.txt")).toBe("x\n");
      // The run's container went with the run.
      expect(await engine.containers(PROJECT_LABEL)).toEqual([]);
    } finally {
      rmSync(inRepo, { force: true });
    }
  });

  it("a gate runs inside too: it sees the image's files and not orc's state; only the named variables pass", () => {
    const db = join(rig.stateDir(), "state.db");
    pipeline(
      transport(", env: [AGENT_TOKEN]"),
      [PROBE, "probe token 'test \"$AGENT_TOKEN\" = t0ken'", "probe other-var 'test -n \"$OTHER_SECRET\"'", "probe write-home 'echo x > $HOME/notes.txt'"].join("\n"),
      { gates: `  inside:\n    run: test -f /image-marker && test -f /.dockerenv && test ! -e ${db} && test ! -e ${join(rig.home, "secret.txt")}` },
    );
    const result = rig.orc(["apply", "pipeline.yaml"], { env: { AGENT_TOKEN: "t0ken", OTHER_SECRET: "s3cret" } });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("[escape] gate inside passed");
    expect(result.stdout).toContain("[escape] accepted");
    expect(result.code).toBe(0);
    expect(probes()).toEqual({ token: "allowed", "other-var": "denied", "write-home": "allowed" });
    // The same checks fail on the host: the image's marker is not here, the state database and the secret are.
    expect(existsSync("/image-marker")).toBe(false);
    expect(existsSync(db)).toBe(true);
    // The home the agent wrote is orc's per-run one, never the user's.
    expect(existsSync(join(rig.home, "notes.txt"))).toBe(false);
    expect(readFileSync(join(runHome(), "notes.txt"), "utf8")).toBe("x\n");
  });

  it("the demo pipeline is accepted through docker, with the network off", () => {
    const workspace = join(rig.base, "calculator");
    cpSync(join(REPO, "examples", "calculator"), workspace, { recursive: true });
    rig.write("orchestrator.yaml", `transport: ${transport()}\n`);
    const result = rig.orc(["apply", join(REPO, "pipelines", "demo.yaml"), "--workspace", workspace], { timeoutMs: 180_000 });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("[subtract] attempt 2: accept");
    expect(result.stdout).toMatch(/run r-\S+ succeeded: all 3 tasks accepted/);
    expect(result.code).toBe(0);
  });

  it("tasks side by side each work in a container that mounts their own directory; the run's workspace is read-only there and their work merges", async () => {
    rig.write(
      "pipeline.yaml",
      [
        `transport: ${transport()}`,
        "concurrency: 2",
        "agent:",
        "  run: |",
        '    test -f /.dockerenv && pwd > "where-$ORC_TASK_ID.txt"',
        `    if echo x > ${rig.dir}/escaped.txt 2>/dev/null; then echo writable >> "where-$ORC_TASK_ID.txt"; fi`,
        "gates:",
        "  inside:",
        "    run: test -f /.dockerenv && ls where-*.txt",
        "tasks:",
        "  - { id: left, prompt: write left, gates: [inside] }",
        "  - { id: right, prompt: write right, gates: [inside] }",
      ].join("\n"),
    );
    const result = rig.orc(["apply", "pipeline.yaml"], { timeoutMs: 120_000 });
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/run r-\S+ succeeded: all 2 tasks accepted/);
    expect(result.code).toBe(0);
    // Each task worked in its own directory (not the run's workspace), which only its container could write.
    const left = rig.read("where-left.txt").trim();
    const right = rig.read("where-right.txt").trim();
    expect(left).not.toBe(rig.dir);
    expect(right).not.toBe(rig.dir);
    expect(left).not.toBe(right);
    expect(`${left}\n${right}`).not.toContain("writable");
    expect(existsSync(join(rig.dir, "escaped.txt"))).toBe(false);
    expect(await engine.containers(PROJECT_LABEL)).toEqual([]);
  });

  it("a task's container goes when the task ends, not with the run", async () => {
    rig.write(
      "pipeline.yaml",
      [
        `transport: ${transport()}`,
        "concurrency: 2",
        "agent:",
        "  run: |",
        '    if [ "$ORC_TASK_ID" = slow ]; then sleep 4; fi; echo done > "$ORC_TASK_ID.txt"',
        "tasks:",
        "  - { id: quick, prompt: quick }",
        "  - { id: slow, prompt: slow }",
      ].join("\n"),
    );
    const orc = rig.start(["apply", "pipeline.yaml"]);
    await waitFor(() => orc.stdout.includes("[quick] accepted"), "the quick task");
    // Only the slow task's container is left (no process ran in the run's workspace itself).
    await waitFor(async () => (await engine.containers(PROJECT_LABEL)).length === 1, "the quick task's container to go");
    expect(orc.stdout).not.toContain("[slow] accepted");
    expect(await orc.finished()).toBe(0);
    expect(await engine.containers(PROJECT_LABEL)).toEqual([]);
  });

  it("a container killed mid-attempt loses the attempt (transport-lost); the retry runs in a fresh container", async () => {
    // The marker lives in orc's per-run home, which outlives containers and is no part of the workspace's checkpoints.
    pipeline(
      transport(),
      ["hostname >> $HOME/hosts", "if test -f $HOME/killed-once; then echo done > probes.txt; else touch $HOME/killed-once; sleep 300; fi"].join("\n"),
      { attempts: 2 },
    );
    const orc = rig.start(["apply", "pipeline.yaml"]);
    await waitFor(() => existsSync(join(rig.stateDir(), "runs")) && existsSync(join(runHome(), "killed-once")), "the first attempt");
    const [container] = await engine.containers(PROJECT_LABEL);
    await engine.docker.getContainer(container?.Id ?? "").kill();
    const code = await orc.finished();
    expect(orc.stderr).toBe("");
    expect(orc.stdout).toContain("the container died");
    expect(orc.stdout).toContain("[escape] accepted");
    expect(code).toBe(0);
    const hosts = readFileSync(join(runHome(), "hosts"), "utf8").trim().split("\n");
    expect(hosts).toHaveLength(2);
    expect(hosts[0]).not.toBe(hosts[1]);
    expect(await engine.containers(PROJECT_LABEL)).toEqual([]);
  });

  it("cancelling orc (SIGINT) mid-attempt, or killing it (-9), leaves no container behind; orc resume starts a fresh one", async () => {
    pipeline(transport(), "if test -f $HOME/started; then echo resumed > probes.txt; else touch $HOME/started; sleep 300; fi");
    for (const signal of ["SIGINT", "SIGKILL"] as const) {
      rmSync(join(rig.stateDir()), { recursive: true, force: true });
      const orc = rig.start(["apply", "pipeline.yaml"]);
      await waitFor(() => existsSync(join(rig.stateDir(), "runs")) && existsSync(join(runHome(), "started")), "the agent to start");
      expect(await engine.containers(PROJECT_LABEL)).toHaveLength(1);
      orc.child.kill(signal);
      const code = await orc.finished();
      if (signal === "SIGINT") expect(code).toBe(130);
      // After kill -9 the engine notices orc's end of the container's stdin closing, and the container removes itself.
      await waitFor(async () => (await engine.containers(PROJECT_LABEL)).length === 0, `no container after ${signal}`);
      const run = readdirSync(join(rig.stateDir(), "runs"))[0] ?? "";
      const resumed = rig.orc(["resume", run]);
      expect(resumed.stderr).toBe("");
      expect(resumed.stdout).toContain("[escape] accepted");
      expect(rig.read("probes.txt")).toBe("resumed\n");
      expect(await engine.containers(PROJECT_LABEL)).toEqual([]);
    }
  });

  it("the next apply removes this project's containers whose orc is gone, and leaves a live orc's alone", async () => {
    pipeline(transport(), "echo ok > probes.txt");
    const project = projectLabel(rig.stateDir());
    const dead = spawnSync("true").pid;
    const make = async (owner: string): Promise<string> => {
      const container = await engine.docker.createContainer({ Image: IMAGE, Cmd: ["sleep", "300"], Labels: { "orc.project": project, "orc.run": "r-old", "orc.owner": owner } });
      await container.start();
      return container.id;
    };
    const orphan = await make(`${hostname()}/${String(dead)}:1`);
    const live = await make(`${hostname()}/${String(process.pid)}:${readFileSync(`/proc/${String(process.pid)}/stat`, "utf8").split(") ")[1]?.split(" ")[19] ?? ""}`);
    const result = rig.orc(["apply", "pipeline.yaml"]);
    expect(result.code).toBe(0);
    const left = (await engine.containers(PROJECT_LABEL)).map((c) => c.Id);
    expect(left).toEqual([live]);
    expect(left).not.toContain(orphan);
    await engine.docker.getContainer(live).remove({ force: true });
  });

  it("the real claude CLI runs inside the container against the scripted model API (network: host); its key passes by name only", async () => {
    // An image of busybox and the CLI's native binary with its shared libraries; the key is one nothing else holds.
    await engine.buildImage(CLAUDE_IMAGE, { binaries: { "/usr/local/bin/claude": join(REPO, "node_modules", ".bin", "claude") } });
    const api = new FakeAnthropic();
    await api.start();
    try {
      const names = Object.keys(api.env()).join(", ");
      rig.write(
        "pipeline.yaml",
        [
          `transport: {kind: docker, image: ${CLAUDE_IMAGE}, socket: ${engine.socket}, network: host, env: [${names}]}`,
          "agent: { kind: claude-code, timeout: 60s, inactivity_timeout: 30s }",
          "gates:",
          "  inside: { run: 'test -f /image-marker && test -x /usr/local/bin/claude && test -f notes.txt' }",
          "tasks:",
          "  - { id: notes, prompt: 'Write the notes. [[fake:write notes.txt]]', gates: [inside], max_attempts: 1 }",
        ].join("\n"),
      );
      const orc = rig.start(["apply", "pipeline.yaml"], { env: { ...api.env(), ANTHROPIC_API_KEY: KEY } });
      const code = await orc.finished();
      expect(orc.stderr).toBe("");
      expect(orc.stdout).toContain("[notes] gate inside passed");
      expect(orc.stdout).toContain("[notes] accepted");
      expect(code).toBe(0);
      expect(rig.read("notes.txt")).toBe("written by the fake model: notes.txt\n");
      expect(api.for("write").length).toBeGreaterThan(0);
      // The key went to the CLI in the container, and nowhere orc keeps anything.
      expect(spawnSync("grep", ["-rlaF", KEY, rig.stateDir()], { encoding: "utf8" }).stdout).toBe("");
      expect(orc.stdout).not.toContain(KEY);
    } finally {
      await api.stop();
    }
  }, 180_000);

  it("a missing image is a clear error; orc doctor checks the engine, the image and a trial container", () => {
    pipeline(`{kind: docker, image: orc-test:absent, socket: ${engine.socket}}`, "echo never > probes.txt");
    const result = rig.orc(["apply", "pipeline.yaml"]);
    expect(result.stdout).toContain('docker image "orc-test:absent" is not in the engine (orc pulls nothing');
    expect(result.code).not.toBe(0);

    rig.write("orchestrator.yaml", `transport: {kind: docker, image: ${IMAGE}}\n`);
    const ok = rig.orc(["doctor"], { env: { DOCKER_HOST: `unix://${engine.socket}` } });
    expect(ok.stdout).toMatch(new RegExp(`^ok +transport docker \\(${IMAGE}, network none\\): a container started and ran \`true\` in \\d+ms$`, "m"));
    rig.write("orchestrator.yaml", `transport: {kind: docker, image: orc-test:absent, socket: ${engine.socket}}\n`);
    const absent = rig.orc(["doctor"]);
    expect(absent.stdout).toMatch(/^fail +transport docker: image "orc-test:absent" is not in the engine/m);
    expect(absent.code).toBe(1);
    rig.write("orchestrator.yaml", `transport: {kind: docker, image: ${IMAGE}, socket: ${join(rig.base, "none.sock")}}\n`);
    const down = rig.orc(["doctor"]);
    expect(down.stdout).toMatch(/^fail +transport docker: the engine does not answer at \S+none\.sock/m);
  });
});
