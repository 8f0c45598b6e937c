import { spawnSync } from "node:child_process";
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REPO, Rig } from "./helpers/rig.js";
import { remoteProcesses, SSH_USER, TestSshd } from "./helpers/sshd.js";

/**
 * `transport: ssh` through the real `orc apply`, against a real sshd on loopback (tests/helpers/sshd.ts): agents and
 * gates run on the "remote" as another user, in a copy of the workspace; what they change comes back to the host,
 * where orc checkpoints it.
 */
describe("transport: ssh through orc apply", () => {
  const sshd = new TestSshd();
  let rig: Rig;
  const remoteHome = `/home/${SSH_USER}`;
  let remoteWs = "";

  beforeAll(async () => {
    await sshd.start();
  });
  afterAll(async () => {
    await sshd.stop();
  });
  beforeEach(() => {
    rig = new Rig("orc-ssh-e2e-");
    spawnSync("git", ["init", "-q"], { cwd: rig.dir });
    remoteWs = `e2e-${String(process.pid)}-${String(Math.random()).slice(2, 8)}`;
  });
  afterEach(() => {
    rig.cleanup();
    spawnSync("rm", ["-rf", join(remoteHome, remoteWs), join(remoteHome, `${remoteWs}.orc-sync`), join(remoteHome, `${remoteWs}.tasks`)]);
  });

  function pipeline(agent: string, options: { gate?: string; transport?: Record<string, string>; attempts?: number } = {}): void {
    rig.write(
      "pipeline.yaml",
      [
        `transport: ${sshd.transportYaml({ workspace: `~/${remoteWs}`, ...options.transport })}`,
        "agent:",
        "  run: |",
        ...agent.split("\n").map((line) => `    ${line}`),
        "gates:",
        "  remote:",
        `    run: ${JSON.stringify(options.gate ?? `test "$(id -un)" = ${SSH_USER} && test -n "$SSH_CONNECTION" && test -f made.txt`)}`,
        "tasks:",
        "  - id: work",
        "    prompt: make a file",
        "    gates: [remote]",
        `    max_attempts: ${String(options.attempts ?? 1)}`,
      ].join("\n"),
    );
  }

  it("runs the demo pipeline through ssh: every task accepted, the retry after a failing gate included", () => {
    cpSync(join(REPO, "examples", "calculator"), rig.dir, { recursive: true });
    rig.write("orchestrator.yaml", `transport: ${sshd.transportYaml({ workspace: `~/${remoteWs}` })}\n`);
    const result = rig.orc(["apply", join(REPO, "pipelines", "demo.yaml"), "--workspace", rig.dir], { timeoutMs: 180_000 });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("[subtract] attempt 2: accept");
    for (const task of ["subtract", "multiply", "docs"]) expect(result.stdout).toContain(`[${task}] accepted`);
    expect(result.code).toBe(0);
    // The agent's work came back to the host workspace.
    expect(rig.read("src/multiply.js")).toContain("multiply");
    expect(rig.read("README.md")).toContain("subtract");
  }, 200_000);

  it("a gate sees it runs remotely as the remote user; the agent's change comes back and is checkpointed", () => {
    rig.write("host.txt", "from the host\n");
    pipeline(`test "$(cat host.txt)" = "from the host" && echo "made by $(id -un)" > made.txt`);
    const result = rig.orc(["apply", "pipeline.yaml"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("[work] gate remote passed");
    expect(result.code).toBe(0);
    expect(rig.read("made.txt")).toBe(`made by ${SSH_USER}\n`);
    const run = /run (r-\S+):/.exec(result.stdout)?.[1] ?? "";
    const diff = rig.orc(["diff", run, "work"]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain(`+made by ${SSH_USER}`);
    // The same gate fails on the host: it is not the remote user there.
    expect(spawnSync("sh", ["-c", `test "$(id -un)" = ${SSH_USER}`]).status).not.toBe(0);
  });

  it("tasks side by side each work in a remote copy of their own directory; their work comes back, merges, and the copies go with the run", () => {
    // An ignored entry (dependencies) the tasks' directories link: on the remote it leads to the run's remote copy.
    rig.write(".gitignore", "deps/\n");
    rig.write("deps/lib.txt", "the library\n");
    rig.write(
      "pipeline.yaml",
      [
        `transport: ${sshd.transportYaml({ workspace: `~/${remoteWs}` })}`,
        "concurrency: 2",
        "agent:",
        "  run: |",
        '    echo "$ORC_TASK_ID by $(id -un) in $(pwd)" > "$ORC_TASK_ID.txt"',
        "gates:",
        "  remote:",
        `    run: ${JSON.stringify(`test "$(id -un)" = ${SSH_USER} && ls *.txt && test "$(cat deps/lib.txt)" = "the library"`)}`,
        "tasks:",
        "  - { id: left, prompt: left, gates: [remote] }",
        "  - { id: right, prompt: right, gates: [remote] }",
      ].join("\n"),
    );
    const result = rig.orc(["apply", "pipeline.yaml"], { timeoutMs: 120_000 });
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/run r-\S+ succeeded: all 2 tasks accepted/);
    expect(result.code).toBe(0);
    const left = rig.read("left.txt");
    const right = rig.read("right.txt");
    expect(left).toContain(`left by ${SSH_USER} in ${remoteHome}/${remoteWs}.tasks/`);
    expect(right).toContain(`right by ${SSH_USER} in ${remoteHome}/${remoteWs}.tasks/`);
    expect(left.split(" in ")[1]).not.toBe(right.split(" in ")[1]);
    expect(existsSync(join(remoteHome, `${remoteWs}.tasks`)) ? spawnSync("ls", ["-A", join(remoteHome, `${remoteWs}.tasks`)]).stdout.toString() : "").toBe("");
  });

  it("refuses an unknown host key with one clear line and no stack; a pinned fingerprint is accepted", () => {
    pipeline("echo x > made.txt", { transport: { known_hosts: join(rig.base, "empty_known_hosts") } });
    const refused = rig.orc(["apply", "pipeline.yaml"]);
    const all = refused.stdout + refused.stderr;
    expect(all).toContain(`unknown host key for [127.0.0.1]:${String(sshd.port)} (${sshd.fingerprint})`);
    expect(all).not.toMatch(/\n\s+at /);
    expect(refused.code).toBe(1);
    expect(existsSync(rig.path("made.txt"))).toBe(false);
    pipeline("echo x > made.txt", { transport: { known_hosts: join(rig.base, "empty_known_hosts"), fingerprint: sshd.fingerprint } });
    const pinned = rig.orc(["apply", "pipeline.yaml"]);
    expect(pinned.stderr).toBe("");
    expect(pinned.code).toBe(0);
    expect(rig.read("made.txt")).toBe("x\n");
  });

  it("a connection killed mid-attempt ends it transport-lost; orc reconnects, the lost attempt's remote files are dropped, and the rerun is accepted", async () => {
    const started = join(remoteHome, remoteWs, "started");
    pipeline(`if [ -f "$HOME/${remoteWs}.first-done" ]; then echo ok > made.txt; else touch "$HOME/${remoteWs}.first-done" started; sleep 20; fi`, { attempts: 2 });
    const orc = rig.start(["apply", "pipeline.yaml"]);
    for (let i = 0; i < 400 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(started)).toBe(true);
    expect(sshd.dropConnections()).toBeGreaterThan(0);
    const code = await orc.finished();
    expect(orc.stderr).toBe("");
    expect(orc.stdout).toMatch(/SSH connection to .* was lost/);
    expect(orc.stdout).toContain("[work] accepted");
    expect(code).toBe(0);
    expect(rig.read("made.txt")).toBe("ok\n");
    // The lost attempt's files stayed on the remote: the rerun started from a fresh copy of the host, not from them.
    expect(existsSync(rig.path("started"))).toBe(false);
    expect(existsSync(started)).toBe(false);
    // The process the dropped connection left running on the remote was killed when orc reconnected.
    expect(remoteProcesses("^sleep 20")).toEqual([]);
    spawnSync("rm", ["-f", join(remoteHome, `${remoteWs}.first-done`)]);
  });

  it("SIGINT to orc leaves no remote process behind", async () => {
    const started = join(remoteHome, remoteWs, "started");
    pipeline("sleep 311 & touch started; sleep 312; echo x > made.txt");
    const orc = rig.start(["apply", "pipeline.yaml"]);
    for (let i = 0; i < 400 && !(existsSync(started) && remoteProcesses("^sleep 31[12]").length === 2); i++) await new Promise((r) => setTimeout(r, 25));
    expect(remoteProcesses("^sleep 31[12]")).toHaveLength(2);
    orc.child.kill("SIGINT");
    const code = await orc.finished();
    expect(code).toBe(130);
    expect(remoteProcesses("^sleep 31[12]")).toEqual([]);
    // Nothing of the run is left: no wrapper of this run's remote workspace (other test files share the remote user).
    expect(remoteProcesses(remoteWs)).toEqual([]);
  });

  it("orc doctor checks the configured host: key verified, authenticated, a remote process and the sync's tools; a changed key fails it", () => {
    rig.write("orchestrator.yaml", `transport: ${sshd.transportYaml()}\n`);
    const ok = rig.orc(["doctor", "--json"]);
    const check = (JSON.parse(ok.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === "transport");
    expect(check?.status).toBe("ok");
    expect(check?.detail).toMatch(new RegExp(`^ssh ${SSH_USER}@127\\.0\\.0\\.1:${String(sshd.port)}: host key verified, authenticated, a remote process ran`));
    expect(check?.detail).toContain("inotifywait found (changes are watched)");
    rig.write("orchestrator.yaml", `transport: ${sshd.transportYaml({ known_hosts: sshd.otherKnownHosts })}\n`);
    const bad = rig.orc(["doctor"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toContain(`HOST KEY CHANGED for [127.0.0.1]:${String(sshd.port)}`);
  });
});
