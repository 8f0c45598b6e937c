import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Rig } from "./helpers/rig.js";

interface Status {
  run: { status: string };
  tasks: { id: string; status: string; attempts: { decision?: string; gates: { gate: string; passed: boolean }[] }[] }[];
}
interface GateLike {
  kind: string;
  run?: string;
  pack?: string;
  rubric?: { path: string; source: string; ref?: string };
}

/** Writes `bad` on its first attempt and `good` after, keeping each prompt it was given. */
const FLAKY_AGENT = `
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
const attempt = Number(process.env.ORC_ATTEMPT);
mkdirSync(process.env.PROMPT_LOG, { recursive: true });
writeFileSync(process.env.PROMPT_LOG + "/" + attempt + ".txt", readFileSync(0, "utf8"));
writeFileSync("out.txt", attempt >= 2 ? "good\\n" : "bad\\n");
`;

/** A pack gate that passes only when out.txt (in the workspace, where gates run) says good. */
const PACK = (name: string) => `name: ${name}
version: 1.0.0
rules: []
gates:
  check: { run: "grep -qx good out.txt", timeout: 30s }
templates:
  fix: fix.liquid
`;

const pipeline = (rig: Rig, uses: string, extra = "") => `version: 1
name: pack-gates
transport: local
agent: { kind: command, run: node ${rig.path("agent.mjs")} }
uses: [${uses}]
${extra}tasks:
  - id: one
    template: pack:fix
    gates: [check]
`;

function git(cwd: string, ...args: string[]): void {
  const result = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
}

describe("gates and templates from rule packs", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-pack-gates-");
    rig.write("ws/.keep", "");
    rig.write("agent.mjs", FLAKY_AGENT);
  });
  afterEach(() => {
    rig.cleanup();
  });

  const apply = () => rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { PROMPT_LOG: rig.path("prompts") } });
  const storedGates = () => {
    const runId = rig.json<{ run: { id: string } }>(["status", "--json"]).run.id;
    const first = rig.orc(["logs", runId, "--json"]).stdout.split("\n")[0] ?? "{}";
    return (JSON.parse(first) as { spec?: { pipeline?: { gates?: Record<string, GateLike> } } }).spec?.pipeline?.gates;
  };
  const expectFailThenPass = () => {
    const result = apply();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("succeeded");
    const attempts = status.tasks[0]?.attempts ?? [];
    expect(attempts.map((a) => a.decision)).toEqual(["retry", "accept"]);
    expect(attempts.map((a) => a.gates.map((g) => [g.gate, g.passed]))).toEqual([[["check", false]], [["check", true]]]);
  };

  it("runs a local pack's gate in the workspace and renders its pack:NAME template as the task's prompt", () => {
    rig.write("packs/mine.yaml", PACK("mine"));
    rig.write("packs/fix.liquid", "Fix task {{ task.id }} so out.txt says good\n");
    rig.write("pipeline.yaml", pipeline(rig, "./packs/mine.yaml"));
    expectFailThenPass();
    expect(rig.read("prompts/1.txt")).toContain("Fix task one so out.txt says good");
    // The run stores the merged gate, so `orc resume` needs no pack file.
    expect(storedGates()?.check).toMatchObject({ kind: "command", run: "grep -qx good out.txt", pack: "mine" });
    const plan = rig.orc(["plan", "pipeline.yaml"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("one gates [check]");
  });

  it("lets the pipeline's own gate override a pack's gate of the same name", () => {
    rig.write("packs/mine.yaml", PACK("mine"));
    rig.write("packs/fix.liquid", "Fix task {{ task.id }}\n");
    rig.write("pipeline.yaml", pipeline(rig, "./packs/mine.yaml", 'gates:\n  check: "true"\n'));
    const result = apply();
    expect(result.code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks[0]?.attempts.map((a) => a.decision)).toEqual(["accept"]);
    expect(storedGates()?.check).toEqual({ kind: "command", id: "check", run: "true", timeoutMs: 600_000 });
  });

  it("takes a gate and a template from an npm package in the project's node_modules", () => {
    rig.write("node_modules/@acme/orc-gates/package.json", JSON.stringify({ name: "@acme/orc-gates", version: "1.0.0", orc: { pack: "pack/pack.yaml" } }));
    rig.write("node_modules/@acme/orc-gates/pack/pack.yaml", PACK("acme"));
    rig.write("node_modules/@acme/orc-gates/pack/fix.liquid", "Make {{ task.id }} good\n");
    rig.write("pipeline.yaml", pipeline(rig, "\"@acme/orc-gates\""));
    expectFailThenPass();
    expect(rig.read("prompts/1.txt")).toContain("Make one good");
    expect(storedGates()?.check).toMatchObject({ pack: "acme" });
  });

  it("refuses, with position and exit 2, a gate no pack defines, and runs nothing", () => {
    rig.write("packs/mine.yaml", PACK("mine"));
    rig.write("packs/fix.liquid", "x\n");
    rig.write("pipeline.yaml", pipeline(rig, "./packs/mine.yaml").replace("gates: [check]", "gates: [chek]"));
    const expected =
      'pipeline.yaml:9:13: error: task "one" uses unknown gate "chek" (did you mean "check"?)\n' + "   9 |     gates: [chek]\n     |             ^^^^\n";
    expect(rig.orc(["validate", "pipeline.yaml"])).toEqual({ code: 2, stdout: "", stderr: expected });
    expect(apply()).toMatchObject({ code: 2, stderr: expected });
  });

  it("apply fetches a git pack before checking names, so they get positions; validate and plan fetch nothing", () => {
    const src = rig.path("pack-src");
    rig.write("pack-src/pack.yaml", PACK("from-git"));
    rig.write("pack-src/fix.liquid", "Git says fix {{ task.id }}\n");
    git(src, "init", "--quiet", "-b", "main");
    git(src, "add", ".");
    git(src, "commit", "--quiet", "-m", "pack");
    const url = `"file://${src}#main"`;
    rig.write("pipeline.yaml", pipeline(rig, url).replace("gates: [check]", "gates: [chek]"));
    // Without the pack, a name it might define is not checked, and nothing is written (no cache, no state).
    expect(rig.orc(["validate", "pipeline.yaml"])).toEqual({ code: 0, stdout: "1 file valid\n", stderr: "" });
    expect(rig.orc(["plan", "pipeline.yaml"]).code).toBe(0);
    expect(existsSync(rig.path(".orc"))).toBe(false);
    const expected =
      'pipeline.yaml:9:13: error: task "one" uses unknown gate "chek" (did you mean "check"?)\n' + "   9 |     gates: [chek]\n     |             ^^^^\n";
    expect(apply()).toMatchObject({ code: 2, stderr: expected });
    expect(rig.json<{ run: unknown }>(["status", "--json"]).run).toBeNull();

    rig.write("pipeline.yaml", pipeline(rig, url));
    expectFailThenPass();
    expect(rig.read("prompts/1.txt")).toContain("Git says fix one");
    expect(storedGates()?.check).toMatchObject({ pack: "from-git" });
  });

  it("reads a pack judge gate's rubric relative to the pack file, or from its own templates as pack:NAME, into the run", () => {
    const judges = "  review: { judge: { rubric: rubrics/review.liquid } }\n  review2: { judge: { rubric: pack:rub } }\n";
    rig.write("packs/mine.yaml", PACK("mine").replace("templates:\n", `${judges}templates:\n  rub: rubrics/named.liquid\n`));
    rig.write("packs/fix.liquid", "Fix task {{ task.id }}\n");
    rig.write("packs/rubrics/review.liquid", "Score the review\n");
    rig.write("packs/rubrics/named.liquid", "Named rubric\n");
    rig.write("pipeline.yaml", pipeline(rig, "./packs/mine.yaml"));
    expectFailThenPass();
    const gates = storedGates();
    expect(gates?.review).toMatchObject({ kind: "judge", pack: "mine", rubric: { path: rig.path("packs/rubrics/review.liquid"), source: "Score the review\n" } });
    expect(gates?.review2?.rubric).toMatchObject({ source: "Named rubric\n", ref: "pack:rub" });
  });

  it("lets a later pack's gate and template replace an earlier pack's of the same name", () => {
    rig.write("packs/first.yaml", PACK("first"));
    rig.write("packs/fix.liquid", "First pack's prompt\n");
    rig.write("packs/later/later.yaml", 'name: later\nversion: 1\nrules: []\ngates:\n  check: "true"\ntemplates:\n  fix: fix.liquid\n');
    rig.write("packs/later/fix.liquid", "Later pack's prompt\n");
    rig.write("pipeline.yaml", pipeline(rig, "./packs/first.yaml, ./packs/later/later.yaml"));
    expect(apply().code).toBe(0);
    expect(rig.json<Status>(["status", "--json"]).tasks[0]?.attempts.map((a) => a.decision)).toEqual(["accept"]);
    expect(rig.read("prompts/1.txt")).toContain("Later pack's prompt");
    expect(storedGates()?.check).toMatchObject({ run: "true", pack: "later" });
  });
});
