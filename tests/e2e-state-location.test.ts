import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

/** Where orc keeps state: ORC_STATE_DIR > `state:` > an existing `.orc/state.db` > the default outside the project. */

const PIPELINE = 'version: 1\nname: where\nagent: { kind: command, run: "true" }\ntasks:\n  - { id: a, prompt: x }\n';

interface Doctor {
  checks: { name: string; status: string; detail: string; data?: Record<string, unknown> }[];
}

function key(root: string): string {
  const real = realpathSync(root);
  return `${real.split("/").pop() ?? ""}-${createHash("sha256").update(real).digest("hex").slice(0, 12)}`;
}

describe("the default state directory", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("pipeline.yaml", PIPELINE);
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("is $XDG_STATE_HOME/orc/projects/<name>-<hash of the root>, with project.json saying whose it is", () => {
    const xdg = join(rig.base, "xdg");
    const applied = rig.orc(["apply", "pipeline.yaml"], { env: { XDG_STATE_HOME: xdg } });
    expect(applied.code, applied.stderr).toBe(0);
    const dir = join(xdg, "orc", "projects", key(rig.dir));
    expect(existsSync(join(dir, "state.db"))).toBe(true);
    expect(existsSync(join(dir, "checkpoints.git"))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "project.json"), "utf8"))).toMatchObject({ root: realpathSync(rig.dir) });
    expect(existsSync(rig.path(".orc"))).toBe(false);
    expect(rig.stateDir(rig.dir, { XDG_STATE_HOME: xdg })).toBe(dir);
  });

  it("is under $HOME/.local/state when XDG_STATE_HOME is unset, empty or relative", () => {
    const home = join(rig.base, "other-home");
    const dir = join(home, ".local", "state", "orc", "projects", key(rig.dir));
    for (const xdg of ["", "relative/state"]) {
      expect(rig.orc(["apply", "pipeline.yaml"], { env: { HOME: home, XDG_STATE_HOME: xdg } }).code).toBe(0);
    }
    expect(rig.json<unknown[]>(["runs", "--json"], { env: { HOME: home, XDG_STATE_HOME: "" } })).toHaveLength(2);
    expect(existsSync(join(dir, "state.db"))).toBe(true);
  });

  it("is keyed by the project root: two projects, two directories; a subdirectory, the same one", () => {
    // Two projects with the same folder name: the hash keeps them apart.
    const other = join(rig.base, "elsewhere", "project");
    mkdirSync(other, { recursive: true });
    rig.write("orchestrator.yaml", "version: 1\n");
    rig.write("src/deep/.keep", "");
    expect(rig.orc(["apply", "pipeline.yaml"]).code).toBe(0);
    expect(rig.orc(["apply", join(rig.dir, "pipeline.yaml")], { cwd: other }).code).toBe(0);
    expect(rig.stateDir(other)).not.toBe(rig.stateDir());

    const here = rig.json<{ id: string }[]>(["runs", "--json"]);
    const there = JSON.parse(rig.orc(["runs", "--json"], { cwd: other }).stdout) as { id: string }[];
    expect(here).toHaveLength(1);
    expect(there).toHaveLength(1);
    expect(there[0]?.id).not.toBe(here[0]?.id);
    // From below the root (orchestrator.yaml found upwards): the same project, the same runs.
    expect(rig.orc(["runs", "--json"], { cwd: rig.path("src", "deep") }).stdout).toBe(`${JSON.stringify(here)}\n`);
  });

  it("needs HOME or XDG_STATE_HOME: without both, one line naming ORC_STATE_DIR (exit 2)", () => {
    const env = { HOME: "", XDG_STATE_HOME: "" };
    const result = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "orc: error: nowhere to keep orc's state: HOME is not set to an absolute path (nor XDG_STATE_HOME); set ORC_STATE_DIR to a directory for it\n",
    });
    expect(rig.orc(["apply", "pipeline.yaml"], { env: { ...env, ORC_STATE_DIR: rig.path("..", "state") } }).code).toBe(0);
  });

  it("that cannot be created stops apply with one line naming ORC_STATE_DIR (exit 2), and doctor fails", () => {
    rig.write("../not-a-dir", "a file where HOME should be\n");
    const env = { HOME: join(rig.base, "not-a-dir"), XDG_STATE_HOME: "" };
    const result = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^orc: error: cannot create orc's state directory \S+ \(ENOTDIR\); set ORC_STATE_DIR to a directory orc can write\n$/);
    const doctor = rig.orc(["doctor"], { env });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^fail {2}state {4}\S+ \(the default, outside the project\) is not writable \(ENOTDIR\): set ORC_STATE_DIR/m);
  });
});

describe("other state directories", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("pipeline.yaml", PIPELINE);
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("uses an existing .orc/state.db (an older orc's), so the project's history stays; doctor says so and warns", () => {
    expect(rig.orc(["apply", "pipeline.yaml"], { env: { ORC_STATE_DIR: rig.path(".orc") } }).code).toBe(0);
    expect(rig.stateDir()).toBe(rig.path(".orc"));
    expect(rig.orc(["apply", "pipeline.yaml"]).code).toBe(0);
    expect(rig.json<unknown[]>(["runs", "--json"])).toHaveLength(2);
    expect(existsSync(join(rig.home, ".local", "state", "orc"))).toBe(false);

    const human = rig.orc(["doctor"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      `warn  state    ${rig.path(".orc")} (the project's .orc/, kept because it holds this project's runs) is writable, but it is inside the project ${rig.dir}, where an agent can delete it: \`mkdir -p `,
    );
    const state = rig.json<Doctor>(["doctor", "--json"]).checks.find((c) => c.name === "state");
    expect(state).toMatchObject({ status: "warn", data: { dir: rig.path(".orc"), source: "legacy", insideProject: true } });
  });

  it("doctor prints where state is and why: the default, ORC_STATE_DIR, state:", () => {
    const report = (env: Record<string, string> = {}) => rig.json<Doctor>(["doctor", "--json"], { env }).checks.find((c) => c.name === "state");
    const outside = rig.stateDir();
    expect(rig.orc(["doctor"]).stdout).toContain(`ok    state    ${outside} (the default, outside the project) is writable\n`);
    expect(report()).toMatchObject({ status: "ok", data: { dir: outside, source: "default", insideProject: false } });

    const fromEnv = join(rig.base, "env-state");
    expect(report({ ORC_STATE_DIR: fromEnv })).toMatchObject({ status: "ok", detail: `${fromEnv} (from ORC_STATE_DIR) is writable`, data: { source: "env" } });

    rig.write("orchestrator.yaml", "version: 1\nstate: .orc\n");
    const inside = report();
    expect(inside).toMatchObject({ status: "warn", data: { dir: rig.path(".orc"), source: "config", insideProject: true } });
    expect(inside?.detail).toBe(
      `${rig.path(".orc")} (from state: in orchestrator.yaml) is writable, but it is inside the project ${rig.dir}, where an agent can delete it: point state: at a directory outside it`,
    );
    // ORC_STATE_DIR still wins over state:.
    expect(report({ ORC_STATE_DIR: fromEnv })).toMatchObject({ data: { dir: fromEnv, source: "env", insideProject: false } });
  });
});
