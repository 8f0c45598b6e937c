import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ORC, REPO, Rig } from "./helpers/rig.js";

const PIPELINE = `version: 1
name: shapes
agent: { kind: command, run: "true" }
defaults: { gates: [unit] }
gates:
  unit: { run: "true", timeout: 1m }
  lint: { run: "true" }
tasks:
  - { id: design, prompt: design it, gates: [] }
  - { id: api, needs: [design], prompt: build the api }
  - { id: ui, needs: [design], prompt: build the ui, priority: 5, gates: [unit, lint] }
  - { id: release, needs: [api, ui], prompt: ship, max_attempts: 1 }
`;

describe("orc plan, status, runs and --version", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("pipeline.yaml", PIPELINE);
  });
  afterEach(() => { rig.cleanup(); });

  it("prints the plan by level, priority first, and writes nothing", () => {
    const result = rig.orc(["plan", "pipeline.yaml"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        "pipeline shapes: 4 tasks in 3 levels, concurrency 1",
        "level 0:",
        "  design no gates, agent command, max 3 attempts",
        "level 1:",
        "  ui needs [design] gates [unit, lint], agent command, max 3 attempts, priority 5",
        "  api needs [design] gates [unit], agent command, max 3 attempts",
        "level 2:",
        "  release needs [api, ui] gates [unit], agent command, max 1 attempt",
        "",
      ].join("\n"),
    );
    expect(existsSync(rig.stateDir())).toBe(false);
  });

  it("prints the plan as versioned JSON with --json", () => {
    const plan = rig.json<{ version: number; levels: string[][]; tasks: { id: string; level: number }[] }>(["plan", "pipeline.yaml", "--json"]);
    expect(plan.version).toBe(1);
    expect(plan.levels).toEqual([["design"], ["ui", "api"], ["release"]]);
    expect(plan.tasks.map((t) => [t.id, t.level])).toEqual([
      ["design", 0],
      ["ui", 1],
      ["api", 1],
      ["release", 2],
    ]);
  });

  it("runs the tasks in the planned order and lists the run", () => {
    const applied = rig.orc(["apply", "pipeline.yaml", "--json"]);
    expect(applied.code).toBe(0);
    const started = applied.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; task?: string })
      .filter((e) => e.type === "task.started")
      .map((e) => e.task);
    expect(started).toEqual(["design", "ui", "api", "release"]);

    const runs = rig.json<{ id: string; status: string; pipeline: string }[]>(["runs", "--json"]);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "succeeded", pipeline: "shapes" });
    const human = rig.orc(["runs"]);
    expect(human.stdout).toMatch(new RegExp(`^${runs[0]?.id ?? ""} {2}succeeded {2}\\S+ {2}shapes\\n$`));

    const status = rig.orc(["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`run ${runs[0]?.id ?? ""}: succeeded (all 4 tasks accepted)`);
    expect(status.stdout).toMatch(/ {2}release {14}accepted {3}1\/1 attempts/);
  });

  it("says there are no runs yet without creating state", () => {
    expect(rig.orc(["status"]).stdout).toBe("no runs yet\n");
    expect(rig.orc(["runs"]).stdout).toBe("no runs yet\n");
    expect(existsSync(rig.stateDir())).toBe(false);
  });

  it("keeps state where ORC_STATE_DIR says", () => {
    const stateDir = rig.path("elsewhere");
    expect(rig.orc(["apply", "pipeline.yaml"], { env: { ORC_STATE_DIR: stateDir } }).code).toBe(0);
    expect(existsSync(join(stateDir, "state.db"))).toBe(true);
    expect(existsSync(rig.stateDir())).toBe(false);
    expect(existsSync(rig.path(".orc"))).toBe(false);
  });

  it("exits 2 on a usage error without a stack trace", () => {
    const result = rig.orc(["apply"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const unknown = rig.orc(["aply", "pipeline.yaml"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("(Did you mean apply?)");
    const missing = rig.orc(["apply", "nope.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(rig.stateDir())).toBe(false);
  });

  it("`orc --version` loads none of node-llama-cpp, ssh2, dockerode, better-sqlite3, ajv or yaml", () => {
    const trace = rig.path("loaded.txt");
    const result = spawnSync(process.execPath, ["--import", join(REPO, "tests", "fixtures", "trace-imports.mjs"), ORC, "--version"], {
      encoding: "utf8",
      env: { ...process.env, ORC_TRACE_IMPORTS: trace },
    });
    expect(result.status).toBe(0);
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    expect(result.stdout).toBe(`${pkg.version}\n`);
    const loaded = readFileSync(trace, "utf8");
    expect(loaded).toMatch(/^file \S+\/dist\/bundle\/main\.cjs$/m); // the tracer works
    for (const heavy of ["node-llama-cpp", "ssh2", "dockerode", "better-sqlite3", "@parcel/watcher", "listr2", "liquidjs", "ajv", "yaml"]) expect(loaded).not.toContain(heavy);
  });
});
