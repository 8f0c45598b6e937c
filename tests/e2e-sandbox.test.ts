import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LoopbackServer } from "./helpers/loopback-server.js";
import { REPO, Rig } from "./helpers/rig.js";

/**
 * `transport: sandbox` through `orc apply`, with the real bwrap: what an agent tries outside its workspace fails
 * inside the sandbox, and the run goes on. The agent writes what each probe saw into the workspace (`probes.txt`);
 * the test also checks the host side: nothing outside changed, orc lived, the attempt was accepted.
 */
// bwrap comes from Debian's bubblewrap, which .ci/run installs: a machine without it fails here, loudly.
const bwrapWorks = (): boolean => spawnSync("bwrap", ["--ro-bind", "/", "/", "true"]).status === 0;

// A probe line per attempt: "NAME: allowed" when the command succeeded inside the sandbox, else "NAME: denied".
const PROBE = `probe() { if sh -c "$2" >/dev/null 2>&1; then echo "$1: allowed" >> probes.txt; else echo "$1: denied" >> probes.txt; fi; }`;

describe("transport: sandbox (bubblewrap)", () => {
  it("has bubblewrap to test with", () => {
    expect(bwrapWorks()).toBe(true);
  });

  let rig: Rig;
  const server = new LoopbackServer();
  let hits = 0;
  let port = 0;

  beforeEach(async () => {
    rig = new Rig("orc-sandbox-");
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

  function pipeline(transport: string, agent: string, gates = ""): void {
    rig.write(
      "pipeline.yaml",
      [
        `transport: ${transport}`,
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
        "    max_attempts: 1",
      ].join("\n"),
    );
  }

  function probes(): Record<string, string> {
    return Object.fromEntries(rig.read("probes.txt").trim().split("\n").map((line) => line.split(": ") as [string, string]));
  }

  it("an agent cannot write outside its workspace, read the user's home, change .git, reach the host's loopback or a socket in /run, or kill orc; the run goes on", async () => {
    const gitConfig = rig.read(".git/config");
    // A service's socket where the Docker engine's and the user's session bus live: one would let the agent out.
    const runDir = process.getuid?.() === 0 ? "/run" : (process.env.XDG_RUNTIME_DIR ?? "/run");
    const socketPath = `${runDir}/orc-sandbox-test-${String(process.pid)}.sock`;
    let socketHits = 0;
    const socketServer = createServer((socket) => { socketHits++; socket.end(); });
    await new Promise<void>((resolve) => socketServer.listen(socketPath, resolve));
    const beside = join(rig.base, "beside.txt");
    const inRepo = join(REPO, `.sandbox-probe-${String(process.pid)}`);
    pipeline(
      "{kind: sandbox, network: off}",
      [
        PROBE,
        "for i in $(seq 100); do test -s orc.pid && break; sleep 0.05; done",
        `probe write-beside 'echo x > ${beside}'`,
        `probe write-host 'echo x > ${inRepo}'`,
        `probe read-home 'cat ${join(rig.home, "secret.txt")}'`,
        "probe write-git 'echo \"[core]\" >> .git/config'",
        `probe loopback 'node -e "fetch(\\"http://127.0.0.1:${String(port)}/\\").then(() => process.exit(0), () => process.exit(1))"'`,
        "probe kill-orc 'kill -TERM $(cat orc.pid)'",
        `probe run-socket 'node -e "require(\\"net\\").connect(\\"${socketPath}\\").on(\\"connect\\", () => process.exit(0)).on(\\"error\\", () => process.exit(1))"'`,
        "probe write-workspace 'echo x > mine.txt'",
      ].join("\n"),
    );
    const orc = rig.start(["apply", "pipeline.yaml"]);
    writeFileSync(rig.path("orc.pid"), String(orc.child.pid));
    const code = await orc.finished();
    try {
      expect(orc.stderr).toBe("");
      expect(probes()).toEqual({
        "write-beside": "allowed", // into the sandbox's own /tmp, which the host never sees (checked below)
        "write-host": "denied",
        "read-home": "denied",
        "write-git": "denied",
        loopback: "denied",
        "kill-orc": "denied",
        "run-socket": "denied",
        "write-workspace": "allowed",
      });
      expect(socketHits).toBe(0);
      expect(existsSync(beside)).toBe(false);
      expect(existsSync(inRepo)).toBe(false);
      expect(rig.read(".git/config")).toBe(gitConfig);
      expect(hits).toBe(0);
      expect(code).toBe(0);
      expect(orc.stdout).toContain("[escape] accepted");
      expect(rig.read("mine.txt")).toBe("x\n");
    } finally {
      rmSync(inRepo, { force: true });
      await new Promise((resolve) => socketServer.close(resolve));
    }
  });

  it("a gate runs inside too: it sees bwrap as pid 1 and not orc's state, and network: on reaches the host's loopback", async () => {
    const db = join(rig.stateDir(), "state.db");
    pipeline(
      "sandbox",
      [PROBE, `probe loopback 'node -e "fetch(\\"http://127.0.0.1:${String(port)}/\\").then(() => process.exit(0), () => process.exit(1))"'`].join("\n"),
      `  inside:\n    run: test "$(cat /proc/1/comm)" = bwrap && test ! -e ${db} && test ! -e ${join(rig.home, "secret.txt")}`,
    );
    // In the background: the test's loopback server must keep answering while orc runs.
    const orc = rig.start(["apply", "pipeline.yaml"]);
    const code = await orc.finished();
    expect(orc.stderr).toBe("");
    expect(orc.stdout).toContain("[escape] gate inside passed");
    expect(orc.stdout).toContain("[escape] accepted");
    expect(code).toBe(0);
    expect(probes()).toEqual({ loopback: "allowed" });
    expect(hits).toBe(1);
    // The same checks fail on the host: the state database and the secret are there.
    expect(existsSync(db)).toBe(true);
  });

  it("the home holds only the paths named in config, read-only, and only the named variables pass", () => {
    rig.write("../home/.agent/config.json", "{\"key\": 1}\n");
    pipeline(
      "{kind: sandbox, home: [.agent], env: [AGENT_TOKEN]}",
      [
        PROBE,
        "probe read-config 'cat $HOME/.agent/config.json'",
        "probe write-config 'echo x >> $HOME/.agent/config.json'",
        "probe write-home 'echo x > $HOME/notes.txt'",
        "probe token 'test \"$AGENT_TOKEN\" = t0ken'",
        "probe other-var 'test -n \"$OTHER_SECRET\"'",
      ].join("\n"),
    );
    const result = rig.orc(["apply", "pipeline.yaml"], { env: { AGENT_TOKEN: "t0ken", OTHER_SECRET: "s3cret" } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(probes()).toEqual({ "read-config": "allowed", "write-config": "denied", "write-home": "allowed", token: "allowed", "other-var": "denied" });
    // The home the agent wrote is orc's, never the user's.
    expect(existsSync(join(rig.home, "notes.txt"))).toBe(false);
    expect(readFileSync(join(rig.home, ".agent", "config.json"), "utf8")).toBe("{\"key\": 1}\n");
  });

  it("the demo pipeline is accepted through the sandbox, with the network off", () => {
    const workspace = join(rig.base, "calculator");
    cpSync(join(REPO, "examples", "calculator"), workspace, { recursive: true });
    rig.write("orchestrator.yaml", "transport: {kind: sandbox, network: off}\n");
    const result = rig.orc(["apply", join(REPO, "pipelines", "demo.yaml"), "--workspace", workspace], { timeoutMs: 120_000 });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("[subtract] attempt 2: accept");
    expect(result.stdout).toMatch(/run r-\S+ succeeded: all 3 tasks accepted/);
    expect(result.code).toBe(0);
  });

  it("orc doctor runs a trial process in the configured sandbox, and fails the check where bwrap is missing", () => {
    rig.write("orchestrator.yaml", "transport: {kind: sandbox, network: off}\n");
    const ok = rig.orc(["doctor"]);
    expect(ok.stdout).toMatch(/^ok +transport sandbox \(bubblewrap, network off\): a trial process ran in \d+ms$/m);
    const missing = rig.orc(["doctor"], { env: { PATH: rig.base } });
    expect(missing.stdout).toMatch(/^fail +transport sandbox: bubblewrap cannot run a sandboxed process: .*bwrap ENOENT/m);
    expect(missing.code).toBe(1);
  });

  it("an ssh transport without a host is refused with a positioned diagnostic by orc validate", () => {
    rig.write("pipeline.yaml", "transport:\n  kind: ssh\nagent: {run: 'true'}\ntasks:\n  - id: t\n    prompt: p\n");
    const result = rig.orc(["validate", "pipeline.yaml"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr + result.stdout).toMatch(/pipeline\.yaml:2:9: error: transport ssh needs a host/);
  });
});
