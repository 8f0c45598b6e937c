import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { ORC, Rig } from "./helpers/rig.js";

describe("progress output", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("ws/.keep", "");
    rig.write(
      "pipeline.yaml",
      `version: 1
name: output
agent: { kind: command, run: "sleep 0.3; echo did it" }
tasks:
  - { id: first, prompt: one }
  - { id: second, needs: [first], prompt: two }
`,
    );
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("draws live listr2 rows on a terminal", () => {
    // `script` gives orc a real pseudo-terminal; stty gives it a width.
    const env = rig.env();
    delete env.CI;
    const result = spawnSync("script", ["-qec", `stty cols 120 rows 40; ${process.execPath} ${ORC} apply pipeline.yaml --workspace ws`, "/dev/null"], {
      cwd: rig.dir,
      env,
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    const screen = result.stdout;
    expect(screen).toMatch(/^run r-\S+: pipeline output, 2 tasks/);
    expect(screen).toContain("\u001b["); // cursor control: a live view, not plain lines
    expect(screen).toContain("first (attempt 1/3)");
    expect(screen).toContain("✔");
    expect(screen).toContain("second: accepted");
    expect(screen).toMatch(/run r-\S+ succeeded: all 2 tasks accepted\r?\n/);
  });

  it("prints plain lines without escape codes when CI is set", () => {
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("\u001b[");
    expect(result.stdout.trim().split("\n").at(-1)).toMatch(/^run r-\S+ succeeded: all 2 tasks accepted$/);
  });

  it("keeps running to the end when its reader goes away (`orc apply … | head -1`)", async () => {
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"]);
    await running.waitFor(/^run (r-\S+):/m);
    const id = /^run (r-\S+):/m.exec(running.stdout)?.[1] ?? "";
    running.child.stdout?.destroy(); // what `head -1` does once it has its line
    expect(await running.finished()).toBe(0);
    expect(running.stderr).toBe("");
    const status = rig.json<{ run: { status: string }; tasks: { status: string }[] }>(["status", id, "--json"]);
    expect(status.run.status).toBe("succeeded");
    expect(status.tasks.map((t) => t.status)).toEqual(["accepted", "accepted"]);
  });

  it("other commands stop when their reader goes away (`orc logs RUN --follow | head -1`), while the run goes on", async () => {
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"]);
    await running.waitFor(/^run (r-\S+):/m);
    const id = /^run (r-\S+):/m.exec(running.stdout)?.[1] ?? "";
    const follower = rig.start(["logs", id, "--follow"]);
    await follower.waitFor(/\S/);
    follower.child.stdout?.destroy();
    expect(await follower.finished()).toBe(0);
    expect(follower.stderr).toBe("");
    expect(running.child.exitCode).toBeNull(); // the run (two agents of 0.3 s each) is still going
    expect(await running.finished()).toBe(0);
  });

  it("`orc logs --follow` streams a live run's events and stops when the run ends", async () => {
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"]);
    await running.waitFor(/^run (r-\S+):/m);
    const id = /^run (r-\S+):/m.exec(running.stdout)?.[1] ?? "";
    const follower = rig.start(["logs", id, "--follow", "--json"]);
    expect(await follower.finished()).toBe(0);
    expect(await running.finished()).toBe(0);
    const types = follower.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types[0]).toBe("run.created");
    expect(types.at(-1)).toBe("run.finished");
    expect(types.filter((t) => t === "task.finished")).toHaveLength(2);
  });
});
