import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunDeps } from "../src/run/deps.js";
import type { ProcessSpec } from "../src/transports/port.js";
import { applyInProcess } from "./helpers/drive-in-process.js";
import { FlakyTransportFake } from "./helpers/flaky-transport.js";
import { FakeAnthropic } from "./helpers/fake-anthropic.js";
import { REPO, Rig } from "./helpers/rig.js";

interface Status {
  run: { id: string; status: string };
  tasks: { id: string; status: string; attempts: { attempt: number; status: string; decision?: string; agent?: { sessionId?: string } }[] }[];
}

interface Breakpoint {
  id: string;
  run: string;
  rule: string;
  message: string;
  context: { reasons: string[] };
}

/**
 * Writes a half-done file named after its attempt and the result, after noting in LOG (outside the workspace) which
 * files it found: the files of a lost attempt must be gone when the next one starts.
 */
const AGENT = `
import { appendFileSync, readdirSync, writeFileSync } from "node:fs";
const attempt = process.env.ORC_ATTEMPT;
const found = readdirSync(".").filter((f) => !f.startsWith(".")).sort();
appendFileSync(process.env.LOG, "attempt " + attempt + " found [" + found.join(",") + "]\\n");
writeFileSync("partial-" + attempt + ".txt", "half done\\n");
writeFileSync("result.txt", "done\\n");
`;

const isAgent = (spec: ProcessSpec): boolean => spec.command.includes("agent.mjs");
const isGate = (spec: ProcessSpec): boolean => spec.command.includes("result.txt");

/**
 * Graceful degradation (src/run/lost.ts) through the real run loop, config, SQLite store, workspace checkpoints and
 * local processes; only the loss itself is a fake (FlakyTransportFake), since no SSH connection or container can be
 * made to die on cue here.
 */
describe("an attempt the transport lost", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-lost-");
    rig.write("ws/README.md", "a workspace\n");
    rig.write("agent.mjs", AGENT);
    // max_attempts 1: the lost attempts must not count, or the task could never be accepted after one.
    rig.write(
      "pipeline.yaml",
      `version: 1
name: flaky
transport: local
agent: { kind: command, run: node ${rig.path("agent.mjs")}, env: { LOG: ${rig.path("log")} } }
gates:
  built: { run: test -f result.txt }
tasks:
  - { id: build, prompt: build it, gates: [built], max_attempts: 1 }
`,
    );
  });
  afterEach(() => {
    rig.cleanup();
  });

  /** The run's deps with the task's transport behind a FlakyTransportFake (one for the run, kept in `fake`). */
  let fake: FlakyTransportFake | undefined;
  beforeEach(() => {
    fake = undefined;
  });
  const flaky =
    (lose: number, which: (spec: ProcessSpec) => boolean) =>
    (deps: RunDeps): RunDeps => ({
      ...deps,
      placeFor: async (task) => {
        const place = await deps.placeFor(task);
        fake ??= new FlakyTransportFake(place.transport, lose, which);
        return { ...place, transport: fake };
      },
    });

  const workspaceFiles = (): string[] => readdirSync(rig.path("ws")).filter((f) => !f.startsWith(".")).sort();

  it("puts the lost attempt's files back, runs it again without counting it, and the task is accepted", async () => {
    const { runId, end, events } = await applyInProcess(rig, "pipeline.yaml", "ws", flaky(2, isAgent));
    expect(end).toBe("succeeded");
    expect(fake?.lost).toBe(2);
    // Each rerun started from the files the task started from: the lost attempts' writes were gone.
    expect(readFileSync(rig.path("log"), "utf8")).toBe("attempt 1 found [README.md]\nattempt 2 found [README.md]\nattempt 3 found [README.md]\n");
    expect(workspaceFiles()).toEqual(["README.md", "partial-3.txt", "result.txt"]);
    expect(events.flatMap((e) => (e.type === "workspace.restored" ? [e.why] : []))).toEqual(["transport-lost", "transport-lost"]);

    const status = rig.json<Status>(["status", runId, "--json"]);
    expect(status.tasks[0]?.attempts.map((a) => [a.attempt, a.status, a.decision ?? null])).toEqual([
      [1, "interrupted", null],
      [2, "interrupted", null],
      [3, "decided", "accept"],
    ]);
    expect(rig.orc(["status", runId]).stdout).toMatch(/build\s+accepted\s+1\/1 attempts.*2 lost to the transport/);
    const logs = rig.orc(["logs", runId]).stdout;
    expect(logs).toContain("[build] attempt 1 lost, runs again (not counted): agent: the transport went away under the agent: connection reset by peer (fake loss 1)");
    expect(logs).toContain("[build] workspace restored to where the attempt the transport lost started");
  });

  it("treats a gate the transport lost the same way: the attempt's files put back, the attempt run again", async () => {
    // The gate's second run: its first is the baseline, before the attempt.
    let gateRuns = 0;
    const { runId, end } = await applyInProcess(rig, "pipeline.yaml", "ws", flaky(1, (spec) => isGate(spec) && ++gateRuns === 2));
    expect(end).toBe("succeeded");
    expect(readFileSync(rig.path("log"), "utf8")).toBe("attempt 1 found [README.md]\nattempt 2 found [README.md]\n");
    expect(workspaceFiles()).toEqual(["README.md", "partial-2.txt", "result.txt"]);
    expect(rig.orc(["logs", runId]).stdout).toMatch(/attempt 1 lost, runs again \(not counted\): gate built: lost its transport after .*connection reset by peer \(fake loss 1\)/);
  });

  it("runs a baseline gate the transport lost again instead of keeping it as the task's baseline", async () => {
    const { runId, end, events } = await applyInProcess(rig, "pipeline.yaml", "ws", flaky(1, isGate));
    expect(end).toBe("succeeded");
    expect(fake?.lost).toBe(1);
    const baseline = events.flatMap((e) => (e.type === "baseline.finished" ? [e.result] : []));
    expect(baseline.map((g) => [g.gate, g.end, g.passed])).toEqual([["built", "exited", false]]);
    expect(rig.json<Status>(["status", runId, "--json"]).tasks[0]?.attempts).toHaveLength(1);
  });

  it("with tasks side by side, a merge gate the transport lost runs again instead of refusing the merge", async () => {
    rig.write(
      "merge.yaml",
      `version: 1
name: merge
transport: local
concurrency: 2
agent: { kind: command, run: 'echo "$ORC_ATTEMPT" > "$ORC_TASK_ID-$ORC_ATTEMPT.txt"' }
gates:
  ok: { run: 'true' }
tasks:
  - { id: a, prompt: one, gates: [ok], max_attempts: 1 }
  - { id: b, prompt: two, gates: [ok], max_attempts: 1 }
`,
    );
    // Merge gates run in the run's workspace itself: the only processes without a task directory of their own.
    const { end, events } = await applyInProcess(rig, "merge.yaml", "ws", flaky(1, (spec) => spec.command.includes("true") && spec.workspace === undefined));
    expect(fake?.lost).toBe(1);
    expect(end).toBe("succeeded");
    const merges = events.flatMap((e) => (e.type === "merge.finished" ? [e.status] : []));
    expect(merges).toEqual(["merged", "merged"]);
    expect(workspaceFiles()).toEqual(["README.md", "a-1.txt", "b-1.txt"]);
  });

  it("with tasks side by side, puts back only the lost task's own directory, so its lost files never reach the workspace and the other task's stay", async () => {
    rig.write(
      "side.yaml",
      `version: 1
name: side
transport: local
concurrency: 2
agent: { kind: command, run: 'echo "$ORC_ATTEMPT" > "$ORC_TASK_ID-$ORC_ATTEMPT.txt"' }
tasks:
  - { id: lossy, prompt: one, max_attempts: 1 }
  - { id: steady, prompt: two, max_attempts: 1 }
`,
    );
    const { runId, end, events } = await applyInProcess(rig, "side.yaml", "ws", flaky(1, (spec) => spec.env.ORC_TASK_ID === "lossy"));
    expect(end).toBe("succeeded");
    expect(fake?.lost).toBe(1);
    const restored = events.flatMap((e) => (e.type === "workspace.restored" ? [[e.task, e.why]] : []));
    expect(restored).toEqual([["lossy", "transport-lost"]]);
    expect(workspaceFiles()).toEqual(["README.md", "lossy-2.txt", "steady-1.txt"]);
    expect(rig.orc(["status", runId]).stdout).toMatch(/lossy\s+accepted\s+1\/1 attempts, 1 lost to the transport/);
  });

  it("stops at a breakpoint naming the losses after three in a row; `orc resolve` and `orc resume` finish the task", async () => {
    const { runId, end } = await applyInProcess(rig, "pipeline.yaml", "ws", flaky(99, isAgent));
    expect(end).toBe("paused");
    expect(fake?.lost).toBe(3);
    // Nothing of the lost attempts is left for the human to mistake for work.
    expect(workspaceFiles()).toEqual(["README.md"]);

    const [bp] = rig.json<Breakpoint[]>(["breakpoints", "--json"]);
    expect(bp?.rule).toBe("transport-lost");
    expect(bp?.message).toContain("the transport lost 3 attempts in a row");
    expect(bp?.context.reasons).toEqual([1, 2, 3].map((n) => `attempt ${String(n)}: agent: the transport went away under the agent: connection reset by peer (fake loss ${String(n)})`));
    expect(rig.orc(["breakpoints"]).stdout).toContain("connection reset by peer (fake loss 3)");

    expect(rig.orc(["resolve", bp?.id ?? "", "--retry", "--note", "the host is back"]).code).toBe(0);
    // What the human did meanwhile stays: the lost attempts' files were put back already, so resume restores nothing.
    rig.write("ws/fixed-by-human.txt", "x\n");
    // The real binary, whose local transport loses nothing.
    const resumed = rig.orc(["resume", runId]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const status = rig.json<Status>(["status", runId, "--json"]);
    expect(status.run.status).toBe("succeeded");
    expect(status.tasks[0]?.attempts.map((a) => [a.attempt, a.status, a.decision ?? null])).toEqual([
      [1, "interrupted", null],
      [2, "interrupted", null],
      [3, "interrupted", null],
      [4, "decided", "accept"],
    ]);
    expect(workspaceFiles()).toEqual(["README.md", "fixed-by-human.txt", "partial-4.txt", "result.txt"]);
  });
});

describe("an attempt the transport lost, with a coding agent that keeps sessions", () => {
  const api = new FakeAnthropic();
  let rig: Rig;
  beforeAll(async () => {
    await api.start();
  });
  afterAll(async () => {
    await api.stop();
  });
  beforeEach(() => {
    rig = new Rig("orc-lost-session-");
    rig.write("ws/.keep", "");
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("does not continue the lost attempt's session: its files are gone, so the rerun starts the conversation afresh", async () => {
    // fix-on-retry writes good.txt only in a session that already holds an earlier prompt, else bad.txt.
    rig.write("pipeline.yaml", "version: 1\nname: claude\ntransport: local\nagent: { kind: claude-code, timeout: 60s }\ntasks:\n  - { id: fix, prompt: 'Fix it. [[fake:fix-on-retry]]', max_attempts: 1 }\n");
    let fake: FlakyTransportFake | undefined;
    const env = { ...api.env(), PATH: `${join(REPO, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };
    const { runId, end } = await applyInProcess(
      rig,
      "pipeline.yaml",
      "ws",
      (deps: RunDeps): RunDeps => ({
        ...deps,
        placeFor: async (task) => {
          const place = await deps.placeFor(task);
          fake ??= new FlakyTransportFake(place.transport, 1, () => true);
          return { ...place, transport: fake };
        },
      }),
      env,
    );
    expect(end).toBe("succeeded");
    const attempts = rig.json<Status>(["status", runId, "--json"], { env }).tasks[0]?.attempts ?? [];
    expect(attempts.map((a) => a.status)).toEqual(["interrupted", "decided"]);
    const [lost, rerun] = attempts.map((a) => a.agent?.sessionId);
    expect(lost).toMatch(/^[0-9a-f-]{36}$/);
    expect(rerun).toMatch(/^[0-9a-f-]{36}$/);
    expect(rerun).not.toBe(lost);
    expect(readdirSync(rig.path("ws")).filter((f) => !f.startsWith(".")).sort()).toEqual(["bad.txt"]);
  });
});
