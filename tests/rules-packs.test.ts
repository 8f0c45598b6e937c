import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Rig } from "./helpers/rig.js";
import { guardedPipeline, writeCalcWorkspace, type Breakpoint, type LoggedEvent, type Status } from "./helpers/rules-project.js";

/** A pack with one rule that any change of more than one line trips. */
const PACK = (name: string) => `name: ${name}
version: 2.1.0
rules:
  - id: any-big-change
    when: changes.lines_changed > 1
    action: pause
    message: "{{ changes.lines_changed }} lines changed ({{ task.id }})"
`;

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

describe("rule packs from a local path, an npm package and a git repository", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-packs-");
    writeCalcWorkspace(rig);
  });
  afterEach(() => {
    rig.cleanup();
  });

  const applyHonest = () => rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { BEHAVIOUR: "huge", PROMPT_LOG: rig.path("prompts") } });
  const createdSpec = (runId: string) => {
    const first = rig.orc(["logs", runId, "--json"]).stdout.split("\n")[0] ?? "{}";
    return (JSON.parse(first) as LoggedEvent).spec?.pipeline;
  };
  const expectPausedBy = (source: string) => {
    const result = applyHonest();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(3);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.breakpoints.map((b) => [b.rule, b.context.source])).toContainEqual(["any-big-change", source]);
    return status.run.id;
  };

  it("a local path", () => {
    rig.write("packs/mine.yaml", PACK("mine"));
    rig.write("pipeline.yaml", guardedPipeline("", "[./packs/mine.yaml]"));
    const run = expectPausedBy("mine");
    expect(createdSpec(run)?.packs).toEqual([expect.objectContaining({ name: "mine", version: "2.1.0", kind: "local", source: rig.path("packs/mine.yaml") })]);
  });

  it("an npm package in the project's node_modules", () => {
    rig.write("node_modules/@acme/orc-rules/package.json", JSON.stringify({ name: "@acme/orc-rules", version: "2.1.0", orc: { pack: "rules/pack.yaml" } }));
    rig.write("node_modules/@acme/orc-rules/rules/pack.yaml", PACK("acme"));
    rig.write("pipeline.yaml", guardedPipeline("", "[\"@acme/orc-rules\"]"));
    const run = expectPausedBy("acme");
    expect(createdSpec(run)?.packs).toEqual([expect.objectContaining({ name: "acme", kind: "package", source: "@acme/orc-rules" })]);
  });

  it("a git URL with a ref, cached, with the resolved commit recorded in the run", () => {
    const src = rig.path("pack-src");
    rig.write("pack-src/pack.yaml", PACK("from-git"));
    git(src, "init", "--quiet", "-b", "main");
    git(src, "add", "pack.yaml");
    git(src, "commit", "--quiet", "-m", "pack v2");
    git(src, "tag", "v2");
    const commit = git(src, "rev-parse", "HEAD");
    git(rig.dir, "clone", "--quiet", "--bare", src, rig.path("packs.git"));
    const url = `file://${rig.path("packs.git")}#v2`;
    rig.write("pipeline.yaml", guardedPipeline("", JSON.stringify([url])));
    const run = expectPausedBy("from-git");
    expect(createdSpec(run)?.packs).toEqual([expect.objectContaining({ name: "from-git", kind: "git", source: url, commit })]);

    // The remote disappears: the cached ref still resolves, to the same commit.
    git(rig.dir, "init", "--quiet", "--bare", rig.path("empty.git"));
    spawnSync("rm", ["-rf", rig.path("packs.git")]);
    writeCalcWorkspace(rig);
    const again = expectPausedBy("from-git");
    expect(createdSpec(again)?.packs?.[0]?.commit).toBe(commit);
  });

  it("a pipeline overrides a pack's rule by id and disables another; precedence is pipeline over pack", () => {
    rig.write(
      "pipeline.yaml",
      guardedPipeline(`breakpoints:
  - id: huge-diff
    when: changes.lines_changed > 100000
    action: pause
disable_rules: [stuck/no-change]
`),
    );
    const result = applyHonest();
    expect(result.code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    const rules = createdSpec(status.run.id)?.rules ?? [];
    expect(rules.find((r) => r.id === "huge-diff")?.source).toBe("pipeline");
    expect(rules.map((r) => r.id)).not.toContain("no-change");
  });

  it("a missing package or a broken pack is a configuration error (exit 2) at file:line:col, and nothing runs", () => {
    rig.write("pipeline.yaml", guardedPipeline("", "[no-such-orc-pack-xyz]"));
    const missing = applyHonest();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("npm package no-such-orc-pack-xyz is not installed");
    const validated = rig.orc(["validate", "pipeline.yaml"]);
    expect(validated.code).toBe(2);
    expect(validated.stderr).toContain("npm package no-such-orc-pack-xyz is not installed");
    rig.write("pipeline.yaml", guardedPipeline());
    expect(rig.orc(["validate", "pipeline.yaml"]).code).toBe(0);

    // git's ext:: transport runs a command: a pack URL may only fetch.
    rig.write("pipeline.yaml", guardedPipeline("", JSON.stringify([`ext::sh -c touch% ${rig.path("PWNED")}.git`])));
    const ext = applyHonest();
    expect(ext.code).toBe(2);
    expect(ext.stderr).toContain("transport 'ext' not allowed");
    expect(existsSync(rig.path("PWNED"))).toBe(false);

    rig.write("packs/bad.yaml", "name: bad\nversion: 1\nrules:\n  - id: r\n    when: \"changes.count > \"\n    action: pause\n");
    rig.write("pipeline.yaml", guardedPipeline("", "[./packs/bad.yaml]"));
    const bad = rig.orc(["validate", "pipeline.yaml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("packs/bad.yaml:5:28: error: condition: Unexpected token: EOF");
    expect(rig.orc(["runs", "--json"]).stdout.trim()).toBe("[]");
  });
  it("a problem with a pack orchestrator.yaml names, or a rule disable_rules names, is reported where it is written", () => {
    rig.write("orchestrator.yaml", 'uses: [orc:safety, "@acme/missing"]\n');
    rig.write("pipeline.yaml", guardedPipeline("disable_rules: [stuck/no-chnage]\n", "[orc:stuck]"));
    const settings = rig.orc(["validate", "pipeline.yaml"]);
    expect(settings.code).toBe(2);
    expect(settings.stderr).toContain(
      'orchestrator.yaml:1:20: error: npm package @acme/missing is not installed (looked for node_modules/@acme/missing from ' +
        `${rig.dir} upwards)\n   1 | uses: [orc:safety, "@acme/missing"]\n     |                    ^^^^^^^^^^^^^^^\n`,
    );
    rig.write("orchestrator.yaml", "uses: [orc:safety]\n");
    const rule = rig.orc(["validate", "pipeline.yaml"]);
    expect(rule.code).toBe(2);
    expect(rule.stderr).toBe(
      'pipeline.yaml:13:17: error: disable_rules names "stuck/no-chnage", but no pack in uses: has that rule (did you mean "no-change"?)\n' +
        "   13 | disable_rules: [stuck/no-chnage]\n      |                 ^^^^^^^^^^^^^^^\n",
    );
    expect(applyHonest().stderr).toBe(rule.stderr);
  });
});

describe("conditions in a pipeline", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-when-");
    writeCalcWorkspace(rig);
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("a syntax error and an unknown name are diagnostics at the exact line:col inside the expression", () => {
    rig.write(
      "pipeline.yaml",
      guardedPipeline(
        `breakpoints:
  - id: broken
    when: "changes.count >> 3"
    action: pause
  - id: typo
    when: chnages.count > 3
    action: warn
`,
        "[]",
      ),
    );
    const result = rig.orc(["validate", "pipeline.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pipeline\.yaml:15:27: error: condition: Unexpected token: GT/);
    expect(result.stderr).toContain("pipeline.yaml:18:11: error: condition: Unknown variable: chnages");
    expect(result.stderr).not.toContain("    at ");
  });

  it("a pipeline breakpoint with a Liquid message pauses; a warn rule only adds a warning", () => {
    rig.write(
      "pipeline.yaml",
      guardedPipeline(
        `breakpoints:
  - id: src-touched
    when: changes.paths.exists(p, p.startsWith("src/"))
    action: warn
    message: "touched {{ changes.paths | join: ',' }}"
  - id: before-start
    hook: before_task
    when: attempt == 1 && task.id == "fix"
    action: pause
    message: "look at {{ task.id }} before it starts"
`,
        "[]",
      ),
    );
    const env = { BEHAVIOUR: "honest", PROMPT_LOG: rig.path("prompts") };
    const paused = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env });
    expect(paused.code).toBe(3);
    const [bp] = rig.json<Breakpoint[]>(["breakpoints", "--json"]);
    expect(bp).toMatchObject({ rule: "before-start", attempt: 1, message: "look at fix before it starts" });
    expect(bp?.context.hook).toBe("before_task");
    expect(rig.orc(["resolve", bp?.id ?? "", "--approve", "--note", "go ahead, mind the sign"]).code).toBe(0);
    const done = rig.orc(["resume", bp?.run ?? ""], { env });
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("rule src-touched (pipeline) → warn: touched src/calc.mjs");
    expect(rig.read("prompts/fix-1.txt")).toContain("go ahead, mind the sign");
  });
});

describe("notifications when a breakpoint opens", () => {
  let rig: Rig;
  let server: Server;
  const received: { body: string; type: string | undefined }[] = [];
  let failFirst = 0;
  beforeEach(async () => {
    rig = new Rig("orc-notify-");
    writeCalcWorkspace(rig);
    received.length = 0;
    failFirst = 1;
    server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ body, type: req.headers["content-type"] });
        if (failFirst-- > 0) res.writeHead(503).end("busy");
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    rig.cleanup();
  });

  it("POSTs JSON to the webhook (retrying a 503) and runs the command with the breakpoint on stdin", async () => {
    const port = (server.address() as AddressInfo).port;
    rig.write("orchestrator.yaml", `notify:\n  webhook: http://127.0.0.1:${port}/hook?token=s3cret\n  command: cat > ${JSON.stringify(rig.path("notified.json"))}\n`);
    rig.write("pipeline.yaml", guardedPipeline());
    const child = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { BEHAVIOUR: "skip-marker", PROMPT_LOG: rig.path("prompts") } });
    expect(await child.finished()).toBe(3);
    expect(received).toHaveLength(2);
    expect(received[0]?.type).toBe("application/json");
    const payload = JSON.parse(received[1]?.body ?? "{}") as { type: string; breakpoint: string; rule: string; task: string; resolve: string };
    expect(payload).toMatchObject({ type: "breakpoint.opened", rule: "skip-marker-added", task: "fix" });
    expect(payload.resolve).toContain(`orc resolve ${payload.breakpoint}`);
    const fromCommand = JSON.parse(rig.read("notified.json")) as { breakpoint: string };
    expect(fromCommand.breakpoint).toBe(payload.breakpoint);
    const [run] = rig.json<{ id: string }[]>(["runs", "--json"]);
    const events = rig.orc(["logs", "--json", run?.id ?? ""]).stdout;
    expect(events).toContain('"type":"breakpoint.notified"');
    expect(events).not.toContain("s3cret");
  });

  it("a webhook that never answers is recorded as a failed notification and the run still pauses (exit 3)", async () => {
    failFirst = 100;
    const port = (server.address() as AddressInfo).port;
    rig.write("orchestrator.yaml", `notify:\n  webhook: http://127.0.0.1:${port}/hook\n`);
    rig.write("pipeline.yaml", guardedPipeline());
    const child = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { BEHAVIOUR: "skip-marker", PROMPT_LOG: rig.path("prompts") } });
    expect(await child.finished()).toBe(3);
    expect(received.length).toBe(4);
    expect(child.stdout).toContain("webhook notification failed: http://127.0.0.1:");
    expect(child.stdout).toContain("HTTP 503");
  });
});

describe("orc rules test", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig("orc-rulestest-");
  });
  afterEach(() => {
    rig.cleanup();
  });

  it.each(["test-integrity", "safety", "budget", "stuck"])("passes on the shipped pack %s", (pack) => {
    const result = rig.orc(["rules", "test", pack]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\d+ passed, 0 failed\n$/);
  });

  it("fails with a readable diff when a fixture's expectation is wrong", () => {
    rig.write("packs/mine.yaml", PACK("mine"));
    rig.write(
      "packs/mine.test.yaml",
      `cases:
  - name: a one-line change passes
    input: { files: [{ path: a.txt, status: modified, added: 1, removed: 0 }] }
    expect: accept
  - name: a big change is wrongly expected to pass
    input: { files: [{ path: a.txt, status: modified, added: 5, removed: 0 }] }
    expect: accept
    rules: []
`,
    );
    const result = rig.orc(["rules", "test", "packs/mine.yaml"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("  ✓ a one-line change passes\n");
    expect(result.stdout).toContain("  ✗ a big change is wrongly expected to pass (line 5)\n");
    expect(result.stdout).toContain("      - decision: accept\n      + decision: pause\n");
    expect(result.stdout).toContain("      - rules: (none)\n      + rules: any-big-change\n");
    expect(result.stdout).toContain("any-big-change (pause): 5 lines changed (task)");
    expect(result.stdout).toContain("1 passed, 1 failed");
  });
});
