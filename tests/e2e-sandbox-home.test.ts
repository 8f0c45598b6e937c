import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

/** `transport: sandbox` for a user whose HOME is empty (orc's state then lives where ORC_STATE_DIR says). */
describe("transport: sandbox without a home", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-sandbox-home-");
    rig.write("ws/README.md", "a workspace\n");
    rig.write(
      "pipeline.yaml",
      `version: 1
name: homeless
transport: { kind: sandbox, network: off }
agent: { kind: command, run: 'echo "$HOME" > home.txt && echo x > "$HOME/scratch" && echo done > out.txt' }
gates:
  done: { run: test -f out.txt }
tasks:
  - { id: one, prompt: go, gates: [done] }
`,
    );
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("runs the agent with orc's own home at /tmp/home instead of failing to start every process", () => {
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { HOME: "", XDG_STATE_HOME: "", ORC_STATE_DIR: rig.path("..", "state") } });
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(rig.read("ws/home.txt")).toBe("/tmp/home\n");
  });
});
