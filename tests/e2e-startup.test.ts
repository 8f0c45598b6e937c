import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ORC, REPO, Rig } from "./helpers/rig.js";

/**
 * Which packages the built orc loads to check a file: the precompiled validators (dist/config/validators/*.cjs), not
 * TypeBox (the schema source, ~90 ms to load) nor ajv's compiler (~110 ms with compiling the pipeline schema), and none
 * of the packages only a run, a judge or a remote agent needs.
 */
describe("orc validate and plan start cold without TypeBox or ajv's compiler", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("orchestrator.yaml", "version: 1\nconcurrency: 2\n");
    rig.write("ok.yaml", "version: 1\nagent: { kind: command, run: \"true\" }\ntasks:\n  - id: a\n    prompt: do it\n  - id: b\n    needs: a\n    prompt: then this\n");
    rig.write("bad.yaml", "version: 1\ntasks:\n  - id: a\n    prompt: do it\n    nedds: [b]\n    max_attempts: 0\n");
  });
  afterEach(() => {
    rig.cleanup();
  });

  function traced(args: readonly string[]): { code: number | null; stdout: string; stderr: string; loaded: string } {
    const trace = rig.path("loaded.txt");
    rmSync(trace, { force: true });
    const result = spawnSync(process.execPath, ["--import", join(REPO, "tests", "fixtures", "trace-imports.mjs"), ORC, ...args], {
      cwd: rig.dir,
      encoding: "utf8",
      env: rig.env({ ORC_TRACE_IMPORTS: trace }),
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, loaded: readFileSync(trace, "utf8") };
  }

  function expectPrecompiledOnly(loaded: string): void {
    // The precompiled validator requires ajv's small runtime helpers, never ajv itself.
    expect(loaded).toMatch(/^require \S+\/dist\/config\/validators\/pipeline\.cjs$/m);
    expect(loaded).toMatch(/^require ajv\/dist\/runtime\/\S+$/m);
    expect(loaded).not.toContain("@sinclair/typebox");
    expect(loaded).not.toMatch(/^(require|import) \S*ajv(\/dist\/ajv\.js)?$/m);
    expect(loaded).not.toContain("ajv/dist/compile");
    for (const heavy of ["node-llama-cpp", "ssh2", "dockerode", "better-sqlite3", "@parcel/watcher", "listr2", "liquidjs"]) expect(loaded).not.toContain(heavy);
  }

  it("validates good and bad files with the same diagnostics as ever", () => {
    const good = traced(["validate", "ok.yaml", "orchestrator.yaml"]);
    expect(good.stderr).toBe("");
    expect(good.stdout).toBe("2 files valid\n");
    expect(good.code).toBe(0);
    expectPrecompiledOnly(good.loaded);

    const bad = traced(["validate", "bad.yaml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.yaml:5:5: error: task "a": unknown key "nedds" (did you mean "needs"?)');
    expect(bad.stderr).toContain('bad.yaml:6:19: error: task "a": max_attempts must be at least 1 (found 0)');
    expectPrecompiledOnly(bad.loaded);
  });

  it("plans without them either", () => {
    const plan = traced(["plan", "ok.yaml"]);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expectPrecompiledOnly(plan.loaded);
  });

  /** Whether one of the modules loaded holds the YAML parser (bundled into one of dist/bundle's chunks). */
  function loadsYamlParser(loaded: string): boolean {
    const files = [...loaded.matchAll(/^file (\S+\.c?js)$/gm)].map((m) => m[1] ?? "");
    expect(files.length).toBeGreaterThan(0);
    return files.some((file) => file.includes("/node_modules/yaml/") || readFileSync(file, "utf8").includes("node_modules/yaml/dist/parse/parser.js"));
  }

  it("a command in a project without orchestrator.yaml loads no YAML parser; with one, it reads the file", () => {
    const withFile = traced(["status"]);
    expect(withFile.code).toBe(0);
    expect(loadsYamlParser(withFile.loaded)).toBe(true);
    rig.write("orchestrator.yaml", "version: 1\nconcurrency: [\n");
    const broken = traced(["status"]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("orchestrator.yaml:2:");

    rmSync(rig.path("orchestrator.yaml"));
    const without = traced(["status"]);
    expect(without.stderr).toBe("");
    expect(without.code).toBe(0);
    expect(without.stdout).toBe("no runs yet\n");
    expect(loadsYamlParser(without.loaded)).toBe(false);
  });
});
