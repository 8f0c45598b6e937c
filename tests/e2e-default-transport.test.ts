import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

interface Status {
  run: { status: string };
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

  it("is the sandbox where bubblewrap works, silently; `transport: local` opts out", () => {
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(rig.read("ws/where.txt")).toBe("sandbox\n");

    rig.write("orchestrator.yaml", "version: 1\ntransport: local\n");
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]).code).toBe(0);
    expect(rig.read("ws/where.txt")).toBe("host\n");
  });

  it("is local, with a one-line notice, where bubblewrap is not found", () => {
    // A PATH with git (orc's checkpoints need it) and no bwrap.
    const bin = join(rig.base, "bin");
    mkdirSync(bin);
    const git = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
    symlinkSync(git, join(bin, "git"));
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { PATH: bin } });
    expect(applied.stderr).toBe(
      "note: no transport configured and bubblewrap does not work here (bwrap not found): agents and gates run as you, on this machine; `transport: local` says so and silences this\n",
    );
    expect(applied.code).toBe(0);
    expect(rig.read("ws/where.txt")).toBe("host\n");
    expect(rig.json<Status>(["status", "--json"]).run.status).toBe("succeeded");
  });
});
