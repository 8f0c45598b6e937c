import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Rig } from "./helpers/rig.js";

interface Attempt {
  attempt: number;
  status: string;
  prompt: string;
  decision?: string;
  reasons: string[];
  gates: { gate: string; passed: boolean; summary: string; outputTail: string }[];
  changes?: { files: { path: string; status: string; added: number; removed: number }[]; linesChanged: number };
  agent?: { exitCode: number | null; end: string; claims: string };
}
interface Status {
  run: { id: string; status: string; pipeline: string; reason?: string };
  tasks: { id: string; status: string; reason?: string; attempts: Attempt[] }[];
  breakpoints: unknown[];
}

/** An agent that writes `good` only from its second attempt on, and keeps every prompt it was given. */
const FLAKY_AGENT = `
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
const attempt = Number(process.env.ORC_ATTEMPT);
const prompt = readFileSync(0, "utf8");
mkdirSync(process.env.PROMPT_LOG, { recursive: true });
writeFileSync(process.env.PROMPT_LOG + "/" + process.env.ORC_TASK_ID + "-" + attempt + ".txt", prompt);
writeFileSync("out-" + process.env.ORC_TASK_ID + ".txt", attempt >= 2 ? "good\\n" : "bad\\n");
console.log("Done: wrote out-" + process.env.ORC_TASK_ID + ".txt and everything passes");
`;

const CHECK_GATE = `
import { readFileSync } from "node:fs";
const task = process.argv[2];
const text = readFileSync("out-" + task + ".txt", "utf8").trim();
if (text !== "good") { console.log("expected good in out-" + task + ".txt, found " + text); process.exit(1); }
console.log("ok");
`;

describe("orc apply", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("ws/.keep", "");
    rig.write("agent.mjs", FLAKY_AGENT);
    rig.write("check.mjs", CHECK_GATE);
  });
  afterEach(() => { rig.cleanup(); });

  const env = (): Record<string, string> => ({ PROMPT_LOG: rig.path("prompts") });

  it("retries a task whose gate fails, with the gate's evidence in the next prompt, then accepts it", () => {
    rig.write(
      "pipeline.yaml",
      `version: 1
name: retry-demo
transport: local
agent: { kind: command, run: node ${rig.path("agent.mjs")} }
gates:
  check: { run: node ${rig.path("check.mjs")} one, timeout: 30s }
tasks:
  - id: one
    prompt: Write good into out-one.txt
    gates: [check]
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: env() });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toMatch(/^run r-\d{8}-\d{6}-[0-9a-f]{6}: pipeline retry-demo, 1 task, workspace /);
    expect(result.stdout).toContain("[one] gate check failed: exit 1");
    expect(result.stdout).toContain("[one] attempt 1: retry (gate check failed");
    expect(result.stdout).toContain("[one] attempt 2: accept");

    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("succeeded");
    const task = status.tasks[0];
    expect(task?.status).toBe("accepted");
    expect(task?.attempts.map((a) => a.decision)).toEqual(["retry", "accept"]);
    expect(task?.attempts[0]?.gates[0]).toMatchObject({ gate: "check", passed: false });
    expect(task?.attempts[0]?.changes?.files).toEqual([{ path: "out-one.txt", status: "added", added: 1, removed: 0, binary: false }]);
    // The command agent has no session to continue, so its retry starts from the files the task started from: the
    // failed attempt's out-one.txt is gone, and attempt 2 adds it afresh.
    expect(result.stdout).toContain("[one] workspace restored to the task's start for a fresh retry");
    expect(task?.attempts[1]?.changes?.files).toEqual([{ path: "out-one.txt", status: "added", added: 1, removed: 0, binary: false }]);
    expect(task?.attempts[0]?.agent?.claims).toContain("everything passes");

    const retryPrompt = rig.read("prompts/one-2.txt");
    expect(retryPrompt).toContain("Write good into out-one.txt");
    expect(retryPrompt).toContain("expected good in out-one.txt, found bad");
    expect(retryPrompt).toContain("attempt 2 of 3");
    expect(task?.attempts[1]?.prompt).toBe(retryPrompt);
  });

  it("keeps the project summary within a run and across runs: a prompt sees what earlier tasks did", () => {
    rig.write("first.yaml", `version: 1
name: first
transport: local
agent: { kind: command, run: node ${rig.path("agent.mjs")} }
tasks:
  - { id: parser, prompt: Write the parser }
  - { id: lexer, needs: [parser], prompt: "Write the lexer. So far: {{ project.summary }}" }
`);
    rig.write("second.yaml", `version: 1
name: second
transport: local
agent: { kind: command, run: node ${rig.path("agent.mjs")} }
tasks:
  - id: docs
    prompt: |
      Document it. So far:
      {{ project.summary }}
`);
    const first = rig.orc(["apply", "first.yaml", "--workspace", "ws"], { env: env() });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    // The parser's end is still held back when the lexer's prompt is rendered (it commits with the lexer's start):
    // reading the summary commits it first.
    expect(rig.read("prompts/lexer-1.txt")).toContain("So far: - parser: Done: wrote out-parser.txt and everything passes [files: out-parser.txt]");
    const second = rig.orc(["apply", "second.yaml", "--workspace", "ws"], { env: env() });
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    const prompt = rig.read("prompts/docs-1.txt");
    expect(prompt).toContain("- parser: Done: wrote out-parser.txt and everything passes [files: out-parser.txt]");
    expect(prompt).toContain("- lexer: Done: wrote out-lexer.txt and everything passes [files: out-lexer.txt]");
  });

  it("refuses a state database written by a newer orc with a clear error, having started nothing", () => {
    rig.write("one.yaml", `version: 1\nname: one\ntransport: local\nagent: { kind: command, run: node ${rig.path("agent.mjs")} }\ntasks:\n  - { id: a, prompt: go }\n`);
    mkdirSync(rig.stateDir(), { recursive: true });
    const db = new Database(join(rig.stateDir(), "state.db"));
    db.pragma("user_version = 99");
    db.close();
    const result = rig.orc(["apply", "one.yaml", "--workspace", "ws"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^orc: error: .*state\.db was written by a newer orc \(schema 99 > \d+\)/);
    expect(result.stderr).not.toContain("    at ");
    expect(existsSync(rig.path("prompts"))).toBe(false); // no agent ran
  });

  it("fails a task that never passes, skips its dependents, and still runs independent tasks", () => {
    rig.write(
      "pipeline.yaml",
      `version: 1
name: skip-demo
transport: local
agent: { kind: command, run: node ${rig.path("agent.mjs")} }
defaults: { max_attempts: 2 }
gates:
  never: { run: "echo this gate never passes; exit 3", timeout: 30s }
tasks:
  - id: a
    prompt: try
    gates: [never]
  - id: b
    needs: [a]
    prompt: after a
  - id: c
    needs: b
    prompt: after b
  - id: d
    prompt: independent
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: env() });
    expect(result.code).toBe(1);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("failed");
    const byId = Object.fromEntries(status.tasks.map((t) => [t.id, t]));
    expect(byId.a?.status).toBe("failed");
    expect(byId.a?.attempts).toHaveLength(2);
    expect(byId.a?.reason).toContain("no attempts left (2 of 2)");
    expect(byId.b).toMatchObject({ status: "skipped", reason: "needs a, which failed", attempts: [] });
    expect(byId.c).toMatchObject({ status: "skipped", reason: "needs b, which was skipped" });
    expect(byId.d?.status).toBe("accepted");
    expect(result.stdout).toContain("[b] skipped: needs a, which failed");
  });

  it("records a crashing agent's exit code and does not run gates on its work", () => {
    rig.write("crash.mjs", `console.error("boom: cannot continue"); process.exit(7);`);
    rig.write(
      "pipeline.yaml",
      `version: 1
name: crash
transport: local
agent: { kind: command, run: node ${rig.path("crash.mjs")} }
defaults: { max_attempts: 1 }
gates:
  check: { run: "echo ran >> ../gate-runs" }
tasks:
  - { id: t, prompt: go, gates: [check] }
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).toBe(1);
    const status = rig.json<Status>(["status", "--json"]);
    const attempt = status.tasks[0]?.attempts[0];
    expect(attempt?.agent).toMatchObject({ exitCode: 7, end: "exited" });
    expect(attempt?.reasons).toContain("agent exited with code 7");
    expect(attempt?.gates).toEqual([]);
    // Once: the baseline, on the untouched workspace before the attempt; never on the crashed agent's work.
    expect(rig.read("gate-runs")).toBe("ran\n");
  });

  it("rejects an attempt that changes a protected path", () => {
    rig.write("ws/tests/spec.txt", "original\n");
    rig.write("cheat.mjs", `import { writeFileSync } from "node:fs"; writeFileSync("tests/spec.txt", "weakened\\n"); writeFileSync("out-t.txt", "good\\n");`);
    rig.write(
      "pipeline.yaml",
      `version: 1
name: protect
transport: local
agent: { kind: command, run: node ${rig.path("cheat.mjs")} }
defaults: { max_attempts: 1 }
tasks:
  - { id: t, prompt: go, protect: ["tests/**"] }
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(result.code).toBe(1);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks[0]?.attempts[0]?.reasons).toContain("changed protected path tests/spec.txt; it was put back before the gates ran");
  });

  it("stops an agent that goes silent past its inactivity timeout and records it as stalled", () => {
    rig.write("silent.mjs", `console.log("thinking..."); setTimeout(() => {}, 60_000);`);
    rig.write(
      "pipeline.yaml",
      `version: 1
name: stall
transport: local
agent: { kind: command, run: node ${rig.path("silent.mjs")}, inactivity_timeout: 1s }
defaults: { max_attempts: 1 }
tasks:
  - { id: t, prompt: go }
`,
    );
    const started = Date.now();
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.code).toBe(1);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks[0]?.attempts[0]?.agent?.end).toBe("stalled");
  });

  it("starts ready tasks by priority, then plan order; a task that becomes ready with a higher priority goes first", () => {
    rig.write(
      "pipeline.yaml",
      `version: 1
name: priorities
transport: local
agent: { kind: command, run: 'echo "$ORC_TASK_ID" >> "$LOG"' }
tasks:
  - { id: a, prompt: go }
  - { id: b, prompt: go }
  - { id: c, prompt: go, needs: [a], priority: 5 }
  - { id: d, prompt: go, priority: 1 }
  - { id: e, prompt: go, needs: [c, d] }
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { LOG: rig.path("order.log") } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // d (priority 1) before a and b; once a is accepted, c (priority 5) jumps ahead of b; e, ready last, ties with b
    // on priority and comes later in plan order.
    expect(rig.read("order.log").trim().split("\n")).toEqual(["d", "a", "c", "b", "e"]);
  });

  it("runs independent tasks side by side with concurrency 2", () => {
    rig.write("slow.mjs", `import { appendFileSync } from "node:fs"; appendFileSync(process.env.LOG, "start " + process.env.ORC_TASK_ID + "\\n"); setTimeout(() => appendFileSync(process.env.LOG, "end " + process.env.ORC_TASK_ID + "\\n"), 700);`);
    rig.write(
      "pipeline.yaml",
      `version: 1
name: parallel
transport: local
concurrency: 2
agent: { kind: command, run: node ${rig.path("slow.mjs")} }
tasks:
  - { id: x, prompt: go }
  - { id: y, prompt: go }
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { LOG: rig.path("order.log") } });
    expect(result.code).toBe(0);
    const order = rig.read("order.log").trim().split("\n");
    expect(order.slice(0, 2).sort()).toEqual(["start x", "start y"]);
  });

  it("prints one JSON event per line with --json, the same events `orc logs --json` replays", () => {
    rig.write(
      "pipeline.yaml",
      `version: 1
name: json
transport: local
agent: { kind: command, run: "echo hi" }
tasks:
  - { id: t, prompt: go }
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws", "--json"]);
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; time: string; run: string });
    expect(events[0]?.type).toBe("run.created");
    for (const e of events) {
      expect(typeof e.type).toBe("string");
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      expect(e.run).toBe(events[0]?.run);
    }
    expect(events.map((e) => e.type)).toEqual([
      "run.created",
      "run.started",
      "task.started",
      "attempt.started",
      "agent.spawned",
      "agent.finished",
      "changes.detected",
      "attempt.decided",
      "task.finished",
      "run.finished",
    ]);
    const logs = rig.orc(["logs", events[0]?.run ?? "", "--json"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe(result.stdout);

    const human = rig.orc(["logs", events[0]?.run ?? ""]);
    expect(human.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}run r-/);
    expect(human.stdout).toContain("[t] attempt 1: accept");
  });
});
