import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";
import { guardedPipeline, writeCalcWorkspace, type Breakpoint } from "./helpers/rules-project.js";

/** `orc stats` over real runs of the built binary: one that retried, paused and was rejected by a human, one honest. */
describe("orc stats", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-stats-");
    writeCalcWorkspace(rig);
    rig.write("pipeline.yaml", guardedPipeline());
  });
  afterEach(() => {
    rig.cleanup();
  });

  const apply = (behaviour: string) => rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { BEHAVIOUR: behaviour, PROMPT_LOG: rig.path("prompts") } });

  it("reports completion, attempts per task and breakpoints by rule over a run with retries and a breakpoint", () => {
    expect(rig.json<{ runs: number; tasks: { total: number } }>(["stats", "--json"])).toMatchObject({ runs: 0, tasks: { total: 0 } });

    // Attempt 1 fails its gate (retry), attempt 2 fails the same way: stuck/same-failure pauses; a human rejects.
    expect(apply("loop").code).toBe(3);
    const bp = rig.json<Breakpoint[]>(["breakpoints", "--json"])[0];
    expect(rig.orc(["resolve", bp?.id ?? "", "--reject", "--note", "going in circles"]).code).toBe(0);
    expect(rig.orc(["resume", bp?.run ?? ""], { env: { BEHAVIOUR: "loop", PROMPT_LOG: rig.path("prompts") } }).code).toBe(1);
    // A second run on a fresh workspace: the honest agent is accepted at once.
    writeCalcWorkspace(rig, "ws");
    expect(apply("honest").code).toBe(0);

    const stats = rig.json<Record<string, unknown>>(["stats", "--json"]);
    expect(stats).toEqual({
      runs: 2,
      tasks: { total: 2, accepted: 1, failed: 1, skipped: 0, unfinished: 0, completionRate: 0.5 },
      attemptsPerTask: { mean: 1.5, p50: 1, max: 2 },
      breakpointsByRule: [{ rule: "same-failure", count: 1 }],
      confidenceOverTime: [],
      calibration: [
        { band: "[0, 0.5)", accepted: 0, laterRejected: 0, rejectedRate: null },
        { band: "[0.5, 0.7)", accepted: 0, laterRejected: 0, rejectedRate: null },
        { band: "[0.7, 0.9)", accepted: 0, laterRejected: 0, rejectedRate: null },
        { band: "[0.9, 1]", accepted: 0, laterRejected: 0, rejectedRate: null },
      ],
    });
    const text = rig.orc(["stats"]).stdout;
    expect(text).toContain("runs 2, tasks 2: 1 accepted, 1 failed, 0 skipped, 0 unfinished");
    expect(text).toContain("completion rate   50% (accepted of accepted + failed)");
    expect(text).toContain("attempts per task mean 1.5, p50 1, max 2");
    expect(text).toMatch(/breakpoints by rule:\n {2}same-failure +1\n/);
  });
});
