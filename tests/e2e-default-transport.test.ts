import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

interface Status {
  run: { status: string };
  transport: { kind: string; network?: boolean; env?: string[] };
}

/**
 * No `transport:` anywhere: `orc apply` runs agents and gates in the sandbox where bubblewrap works, and locally with
 * a one-line notice where it does not. The gate writes where it ran: on the host the user's home (with its secret) is
 * there; in the sandbox the home is an empty one of orc's.
 */
describe("the default transport", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-default-transport-");
    writeFileSync(join(rig.home, "secret.txt"), "the user's secret\n");
    rig.write("ws/README.md", "a workspace\n");
    rig.write(
      "pipeline.yaml",
      `version: 1
name: unsaid
agent: { kind: command, run: 'echo done > out.txt' }
gates:
  where: { run: 'if test -r "$HOME/secret.txt"; then echo host; else echo sandbox; fi > where.txt' }
tasks:
  - { id: one, prompt: go, gates: [where], baseline: false }
`,
    );
  });
  afterEach(() => {
    rig.cleanup();
  });

  /** A PATH with git, sh and sleep (orc's checkpoints and these agents and gates need them) and no bwrap. */
  function pathWithoutBwrap(): string {
    const bin = join(rig.base, "bin");
    if (existsSync(bin)) return bin;
    mkdirSync(bin);
    for (const tool of ["git", "sh", "sleep"]) {
      symlinkSync(spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim(), join(bin, tool));
    }
    return bin;
  }

  it("is the sandbox where bubblewrap works, silently; `transport: local` opts out", () => {
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(rig.read("ws/where.txt")).toBe("sandbox\n");
    // The run says where it ran, and stored its choice (with the proxy variables every agent may need) for `orc resume`.
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.transport).toMatchObject({ kind: "sandbox", network: true });
    expect(status.transport.env).toContain("HTTPS_PROXY");
    expect(rig.orc(["status"]).stdout).toMatch(/^ {2}transport sandbox \(bubblewrap, network on\)$/m);

    rig.write("orchestrator.yaml", "version: 1\ntransport: local\n");
    const local = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(local.stderr).toBe("");
    expect(local.code).toBe(0);
    expect(rig.read("ws/where.txt")).toBe("host\n");
    expect(rig.json<Status>(["status", "--json"]).transport).toEqual({ kind: "local" });
    expect(rig.orc(["status"]).stdout).toMatch(/^ {2}transport local$/m);
  });

  it("is chosen once, at apply, and stored with the run: `orc resume` runs where `apply` ran", async () => {
    rig.write(
      "slow.yaml",
      `version: 1
name: slow
agent: { kind: command, run: 'sleep 2; echo done > out.txt' }
gates:
  where: { run: 'if test -r "$HOME/secret.txt"; then echo host; else echo sandbox; fi > where.txt' }
tasks:
  - { id: one, prompt: go, gates: [where], baseline: false, max_attempts: 1 }
`,
    );
    // Applied where bubblewrap is missing: local. Interrupted, then resumed where it works: still local.
    const running = rig.start(["apply", "slow.yaml", "--workspace", "ws"], { env: { PATH: pathWithoutBwrap() } });
    await running.waitFor("[one] attempt 1/1 started");
    running.child.kill("SIGINT");
    expect(await running.finished()).toBe(130);
    const paused = rig.json<Status & { run: { id: string } }>(["status", "--json"]);
    expect(paused.run.status).toBe("paused");
    const resumed = rig.orc(["resume", paused.run.id]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(rig.read("ws/where.txt")).toBe("host\n");
    expect(rig.json<Status>(["status", "--json"]).transport).toEqual({ kind: "local" });
  });

  it("is what `orc doctor` reports: sandbox where bubblewrap works, local where it is missing", () => {
    expect(rig.orc(["doctor"]).stdout).toMatch(/^ok +transport sandbox by default \(no transport configured; bubblewrap works: a trial process ran in \d+ms\)$/m);
    const missing = rig.orc(["doctor"], { env: { PATH: pathWithoutBwrap() } });
    expect(missing.stdout).toMatch(/^ok +transport local by default \(no transport configured; sandbox unavailable: .*bwrap ENOENT.*\): agents and gates run as you$/m);
    rig.write("orchestrator.yaml", "version: 1\ntransport: local\n");
    expect(rig.orc(["doctor"]).stdout).toMatch(/^ok +transport local \(configured: agents and gates run as you\); bubblewrap works here/m);
  });

  it("is local, with a one-line notice, where bubblewrap is not found", () => {
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { PATH: pathWithoutBwrap() } });
    expect(applied.stderr).toBe(
      "note: no transport configured and bubblewrap does not work here (bwrap not found): agents and gates run as you, on this machine; `transport: local` says so and silences this\n",
    );
    expect(applied.code).toBe(0);
    expect(rig.read("ws/where.txt")).toBe("host\n");
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("succeeded");
    expect(status.transport).toEqual({ kind: "local" });
  });
});
