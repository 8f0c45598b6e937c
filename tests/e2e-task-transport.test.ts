import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

/**
 * `transport:` on a task, through `orc apply` and the real bwrap: one pipeline whose tasks run in different places.
 * Each task's gate writes where it ran: on the host the user's home (with its secret) is there; in the sandbox the
 * home is an empty one of orc's.
 */
describe("a task's own transport", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-task-transport-");
    writeFileSync(join(rig.home, "secret.txt"), "the user's secret\n");
    rig.write("ws/README.md", "a workspace\n");
  });
  afterEach(() => {
    rig.cleanup();
  });

  const where = (file: string): string => `if test -r "$HOME/secret.txt"; then echo host; else echo sandbox; fi > ${file}`;

  it("runs each task's agent and gates where that task says, and the rest where the pipeline says", () => {
    rig.write(
      "pipeline.yaml",
      `version: 1
name: mixed
transport: local
agent: { kind: command, run: 'cat "$HOME/secret.txt" > "agent-$ORC_TASK_ID.txt" || echo none > "agent-$ORC_TASK_ID.txt"' }
gates:
  on-host: { run: '${where("gate-host.txt")}' }
  in-box: { run: '${where("gate-box.txt")}' }
tasks:
  - { id: host, prompt: one, gates: [on-host], baseline: false }
  - { id: boxed, prompt: two, gates: [in-box], baseline: false, needs: [host], transport: { kind: sandbox, network: off } }
`,
    );
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(rig.read("ws/gate-host.txt")).toBe("host\n");
    expect(rig.read("ws/gate-box.txt")).toBe("sandbox\n");
    expect(rig.read("ws/agent-host.txt")).toBe("the user's secret\n");
    expect(rig.read("ws/agent-boxed.txt")).toBe("none\n");
  });
});
