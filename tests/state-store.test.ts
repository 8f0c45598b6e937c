import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentOutcome, EventInput, GateOutcome } from "../src/core/events.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, StateSchemaError, migrate } from "../src/state/migrations.js";
import { SQL, StateProjectionError, openState, openStateStore, type SqliteStateStore } from "../src/state/sqlite-store.js";

const dirs: string[] = [];
const stores: SqliteStateStore[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "orc-state-test-"));
  dirs.push(dir);
  return dir;
}

function open(stateDir: string, opts?: Parameters<typeof openStateStore>[1]): SqliteStateStore {
  const store = openStateStore(stateDir, opts);
  stores.push(store);
  return store;
}

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A clock that ticks one second per call, so every event has a distinct, predictable time. */
function clock(): () => Date {
  let t = Date.parse("2026-01-01T00:00:00.000Z");
  return () => new Date((t += 1000));
}

const agent: AgentOutcome = {
  exitCode: 0,
  signal: null,
  end: "exited",
  durationMs: 1200,
  outputTail: "done\n",
  claims: "I added the parser.",
};

function gate(name: string, passed: boolean): GateOutcome {
  return {
    gate: name,
    kind: "command",
    passed,
    exitCode: passed ? 0 : 1,
    end: "exited",
    durationMs: 300,
    outputTail: passed ? "ok" : "1 failed",
    tests: { passed: 3, failed: passed ? 0 : 1, skipped: 0, total: passed ? 3 : 4 },
    summary: passed ? "exit 0" : "exit 1, 1 failed",
  };
}

function created(run: string, tasks: readonly string[] = ["zeta", "alpha"]): EventInput {
  return {
    type: "run.created",
    run,
    pipeline: "demo",
    pipelineFile: "pipelines/demo.yaml",
    workspace: "/work/project",
    tasks: tasks.map((id, i) => ({ id, maxAttempts: i + 2 })),
    spec: { pipeline: "demo", tasks, nested: { ok: true } },
  };
}

function countEvents(stateDir: string): number {
  const db = new Database(join(stateDir, "state.db"), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("SqliteStateStore projections", () => {
  it("projects every event type onto runs, tasks, attempts and gates", () => {
    const dir = tempDir();
    const store = open(dir, { now: clock() });
    const run = "r-20260101-000000-aaaaaa";

    const c = store.append(created(run));
    expect(c.seq).toBe(1);
    expect(c.event.time).toBe("2026-01-01T00:00:01.000Z");
    expect(store.getRun(run)).toEqual({
      id: run,
      status: "pending",
      pipeline: "demo",
      pipelineFile: "pipelines/demo.yaml",
      workspace: "/work/project",
      createdAt: "2026-01-01T00:00:01.000Z",
      updatedAt: "2026-01-01T00:00:01.000Z",
    });
    expect(store.runSpec(run)).toEqual({ pipeline: "demo", tasks: ["zeta", "alpha"], nested: { ok: true } });
    expect(store.snapshot(run)?.tasks.map((t) => [t.id, t.status, t.maxAttempts, t.attempts.length])).toEqual([
      ["zeta", "pending", 2, 0],
      ["alpha", "pending", 3, 0],
    ]);

    store.append({ type: "run.started", run, resumed: false, pid: 4242 });
    expect(store.getRun(run)).toMatchObject({ status: "running", pid: 4242, updatedAt: "2026-01-01T00:00:02.000Z" });

    store.append({ type: "task.started", run, task: "zeta" });
    expect(store.snapshot(run)?.tasks[0]?.status).toBe("running");

    store.append({ type: "attempt.started", run, task: "zeta", attempt: 1, prompt: "Write the parser." });
    let attempt = store.snapshot(run)?.tasks[0]?.attempts[0];
    expect(attempt).toEqual({
      attempt: 1,
      status: "running",
      startedAt: "2026-01-01T00:00:04.000Z",
      prompt: "Write the parser.",
      gates: [],
      reasons: [],
    });

    store.append({ type: "agent.finished", run, task: "zeta", attempt: 1, result: agent });
    const files = [
      { path: "src/parser.ts", status: "added", added: 10, removed: 0, binary: false },
      { path: "logo.png", status: "modified", added: 0, removed: 0, binary: true },
    ] as const;
    store.append({ type: "changes.detected", run, task: "zeta", attempt: 1, files, linesChanged: 10, checkpoint: "abc123" });
    store.append({ type: "gate.finished", run, task: "zeta", attempt: 1, result: gate("typecheck", true) });
    store.append({ type: "gate.finished", run, task: "zeta", attempt: 1, result: gate("test", false) });
    store.append({ type: "attempt.decided", run, task: "zeta", attempt: 1, decision: "retry", reasons: ["test failed: 1 failed"] });
    attempt = store.snapshot(run)?.tasks[0]?.attempts[0];
    expect(attempt).toEqual({
      attempt: 1,
      status: "decided",
      startedAt: "2026-01-01T00:00:04.000Z",
      finishedAt: "2026-01-01T00:00:09.000Z",
      prompt: "Write the parser.",
      agent,
      changes: { files, linesChanged: 10, checkpoint: "abc123" },
      gates: [gate("typecheck", true), gate("test", false)],
      decision: "retry",
      reasons: ["test failed: 1 failed"],
    });

    store.append({ type: "attempt.started", run, task: "zeta", attempt: 2, prompt: "Fix the test." });
    store.append({ type: "changes.detected", run, task: "zeta", attempt: 2, files: [], linesChanged: 0 });
    store.append({ type: "attempt.interrupted", run, task: "zeta", attempt: 2 });
    attempt = store.snapshot(run)?.tasks[0]?.attempts[1];
    expect(attempt).toEqual({
      attempt: 2,
      status: "interrupted",
      startedAt: "2026-01-01T00:00:10.000Z",
      finishedAt: "2026-01-01T00:00:12.000Z",
      prompt: "Fix the test.",
      changes: { files: [], linesChanged: 0 },
      gates: [],
      reasons: [],
    });

    store.append({ type: "run.interrupted", run, reason: "SIGINT" });
    expect(store.getRun(run)).toMatchObject({ status: "paused", reason: "SIGINT", pid: 4242 });
    expect(store.getRun(run)?.finishedAt).toBeUndefined();

    store.append({ type: "run.started", run, resumed: true, pid: 5151 });
    expect(store.getRun(run)).toMatchObject({ status: "running", pid: 5151 });
    expect(store.getRun(run)?.reason).toBeUndefined();

    store.append({ type: "task.finished", run, task: "zeta", status: "failed", reason: "out of attempts" });
    store.append({ type: "task.finished", run, task: "alpha", status: "skipped", reason: "depends on zeta" });
    store.append({ type: "run.finished", run, status: "failed", reason: "task zeta failed" });

    const snap = store.snapshot(run);
    expect(snap?.run).toEqual({
      id: run,
      status: "failed",
      pipeline: "demo",
      pipelineFile: "pipelines/demo.yaml",
      workspace: "/work/project",
      createdAt: "2026-01-01T00:00:01.000Z",
      updatedAt: "2026-01-01T00:00:17.000Z",
      finishedAt: "2026-01-01T00:00:17.000Z",
      reason: "task zeta failed",
      pid: 5151,
    });
    expect(snap?.tasks.map((t) => ({ id: t.id, status: t.status, reason: t.reason, attempts: t.attempts.map((a) => a.attempt) }))).toEqual([
      { id: "zeta", status: "failed", reason: "out of attempts", attempts: [1, 2] },
      { id: "alpha", status: "skipped", reason: "depends on zeta", attempts: [] },
    ]);
    expect(snap?.breakpoints).toEqual([]);
    // The snapshot is what `orc status --json` prints: plain JSON, nothing lost in a round trip.
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it("orders attempts numerically and gates by arrival", () => {
    const store = open(tempDir());
    const run = "r-order";
    store.append(created(run, ["t"]));
    for (const n of [1, 2, 10, 9]) store.append({ type: "attempt.started", run, task: "t", attempt: n, prompt: `p${n}` });
    for (const g of ["zz", "aa", "mm"]) store.append({ type: "gate.finished", run, task: "t", attempt: 9, result: gate(g, true) });
    const attempts = store.snapshot(run)?.tasks[0]?.attempts ?? [];
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 9, 10]);
    expect(attempts[2]?.gates.map((g) => g.gate)).toEqual(["zz", "aa", "mm"]);
  });

  it("reads events by run, after a sequence number, with a limit", () => {
    const store = open(tempDir());
    store.append(created("r-a", ["t"]));
    store.append(created("r-b", ["t"]));
    store.append({ type: "run.started", run: "r-a", resumed: false, pid: 1 });
    store.append({ type: "task.started", run: "r-b", task: "t" });
    store.append({ type: "task.started", run: "r-a", task: "t" });
    expect(store.events("r-a").map((e) => [e.seq, e.event.type])).toEqual([
      [1, "run.created"],
      [3, "run.started"],
      [5, "task.started"],
    ]);
    expect(store.events("r-a", { afterSeq: 1 }).map((e) => e.seq)).toEqual([3, 5]);
    expect(store.events("r-a", { afterSeq: 1, limit: 1 }).map((e) => e.seq)).toEqual([3]);
    expect(store.events("r-a", { limit: 0 })).toEqual([]);
    expect(store.events("nope")).toEqual([]);
    const first = store.events("r-b")[0];
    expect(first?.event).toMatchObject({ type: "run.created", run: "r-b", pipeline: "demo" });
    expect(typeof first?.event.time).toBe("string");
  });

  it("finds the latest run by creation order, not by id", () => {
    const store = open(tempDir());
    expect(store.latestRun()).toBeUndefined();
    expect(store.listRuns()).toEqual([]);
    store.append(created("r-zzz"));
    store.append(created("r-aaa"));
    store.append({ type: "run.started", run: "r-zzz", resumed: false, pid: 1 });
    expect(store.latestRun()?.id).toBe("r-aaa");
    expect(store.listRuns().map((r) => r.id)).toEqual(["r-zzz", "r-aaa"]);
    expect(store.getRun("missing")).toBeUndefined();
    expect(store.snapshot("missing")).toBeUndefined();
    expect(store.runSpec("missing")).toBeUndefined();
  });

  it("keeps everything across a reopen", () => {
    const dir = tempDir();
    const first = openStateStore(dir);
    first.append(created("r-keep"));
    first.append({ type: "run.started", run: "r-keep", resumed: false, pid: 7 });
    const before = first.snapshot("r-keep");
    first.close();
    const second = open(dir);
    expect(second.snapshot("r-keep")).toEqual(before);
    expect(second.append({ type: "task.started", run: "r-keep", task: "alpha" }).seq).toBe(3);
  });
});

describe("atomicity", () => {
  it("an append whose projection throws leaves no ledger row", () => {
    const dir = tempDir();
    const store = open(dir);
    store.append(created("r-1", ["t"]));
    const bad: EventInput[] = [
      { type: "attempt.started", run: "r-unknown", task: "t", attempt: 1, prompt: "x" },
      { type: "attempt.started", run: "r-1", task: "no-such-task", attempt: 1, prompt: "x" },
      { type: "agent.finished", run: "r-1", task: "t", attempt: 1, result: agent },
      { type: "gate.finished", run: "r-1", task: "t", attempt: 1, result: gate("g", true) },
      { type: "task.started", run: "r-1", task: "no-such-task" },
      { type: "run.started", run: "r-unknown", resumed: false, pid: 1 },
      { type: "run.finished", run: "r-unknown", status: "failed", reason: "x" },
      created("r-1"),
      created("r-dup-tasks", ["a", "a"]),
    ];
    for (const event of bad) {
      expect(() => store.append(event), event.type).toThrow(StateProjectionError);
    }
    expect(() => store.append(bad[0] as EventInput)).toThrow(/unknown run r-unknown/);
    expect(() => store.append(bad[1] as EventInput)).toThrow(/run r-1 has no task no-such-task/);
    expect(() => store.append(bad[2] as EventInput)).toThrow(/has no attempt 1 of task t/);
    expect(countEvents(dir)).toBe(1);
    expect(store.events("r-1").length).toBe(1);
    expect(store.getRun("r-dup-tasks")).toBeUndefined();
    // The store is still usable after a failed append.
    store.append({ type: "attempt.started", run: "r-1", task: "t", attempt: 1, prompt: "x" });
    expect(() => store.append({ type: "attempt.started", run: "r-1", task: "t", attempt: 1, prompt: "again" })).toThrow(/already started/);
    expect(countEvents(dir)).toBe(2);
  });
});

describe("schema and migrations", () => {
  it("applies migrations once and records the version", () => {
    const dir = tempDir();
    openStateStore(dir).close();
    const db = new Database(join(dir, "state.db"));
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(LATEST_SCHEMA_VERSION);
      expect(migrate(db)).toEqual([]);
      expect(migrate(db, MIGRATIONS)).toEqual([]);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    openStateStore(dir).close();
    const fresh = new Database(":memory:");
    try {
      expect(migrate(fresh)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(migrate(fresh)).toEqual([]);
    } finally {
      fresh.close();
    }
  });

  it("rolls every pending migration back when one fails: the database stays at the version it had", () => {
    const db = new Database(":memory:");
    try {
      const broken = [
        ...MIGRATIONS,
        {
          version: MIGRATIONS.length + 1,
          description: "fails halfway",
          up(d: Database.Database) {
            d.exec("CREATE TABLE half (x)");
            throw new Error("boom");
          },
        },
      ];
      expect(() => migrate(db, broken)).toThrow("boom");
      expect(db.pragma("user_version", { simple: true })).toBe(0);
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('half', 'runs')").get()).toEqual({ n: 0 });
      migrate(db, MIGRATIONS.slice(0, 2));
      expect(() => migrate(db, broken)).toThrow("boom");
      expect(db.pragma("user_version", { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });

  it("refuses a database written by a newer orc", () => {
    const dir = tempDir();
    openStateStore(dir).close();
    const db = new Database(join(dir, "state.db"));
    db.pragma("user_version = 7");
    db.close();
    const message = `state.db was written by a newer orc (schema 7 > ${LATEST_SCHEMA_VERSION})`;
    expect(() => openStateStore(dir)).toThrow(StateSchemaError);
    expect(() => openStateStore(dir)).toThrow(message);
    expect(() => openStateStore(dir, { readonly: true })).toThrow(message);
    const result = openState(dir);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure).toEqual({ reason: "state", message: expect.stringContaining(message) as unknown });
    // Refusing did not change the file.
    const check = new Database(join(dir, "state.db"), { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(7);
    check.close();
  });

  it("serves every hot-path query from an index (no full scans)", () => {
    const dir = tempDir();
    open(dir);
    const db = new Database(join(dir, "state.db"), { readonly: true });
    try {
      for (const [name, sql] of Object.entries(SQL)) {
        const params = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
        for (const step of plan) {
          expect(step, `${name}: ${plan.join(" | ")}`).not.toMatch(/^SCAN (?!\w+ USING (COVERING )?INDEX)/);
          expect(step, name).not.toMatch(/TEMP B-TREE/);
        }
        if (/\bevents\b/.test(sql) && !sql.startsWith("INSERT")) {
          expect(plan.join(" | "), name).toMatch(/SEARCH (events|e|s|g|c) USING (INTEGER PRIMARY KEY|INDEX events_run_seq)/);
        }
      }
    } finally {
      db.close();
    }
  });
});

describe("read-only stores", () => {
  it("creates nothing when the state directory does not exist", () => {
    const dir = tempDir();
    const stateDir = join(dir, "missing", ".orc");
    const store = open(stateDir, { readonly: true });
    expect(store.missing).toBe(true);
    expect(store.listRuns()).toEqual([]);
    expect(store.latestRun()).toBeUndefined();
    expect(store.snapshot("r")).toBeUndefined();
    expect(() => store.append(created("r"))).toThrow(/read-only/);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });

  it("sees a concurrent writer's events and does not block it", () => {
    const dir = tempDir();
    const writer = open(dir);
    writer.append(created("r-live", ["t"]));
    const reader = open(dir, { readonly: true });
    expect(reader.missing).toBe(false);
    expect(reader.snapshot("r-live")?.run.status).toBe("pending");
    expect(() => reader.append({ type: "task.started", run: "r-live", task: "t" })).toThrow(/read-only/);

    const t0 = performance.now();
    writer.append({ type: "run.started", run: "r-live", resumed: false, pid: 9 });
    writer.append({ type: "task.started", run: "r-live", task: "t" });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(reader.snapshot("r-live")?.tasks[0]?.status).toBe("running");
    expect(reader.events("r-live", { afterSeq: 1 }).map((e) => e.event.type)).toEqual(["run.started", "task.started"]);
    expect(reader.latestRun()?.status).toBe("running");
    expect(readdirSync(dir).filter((f) => !f.startsWith("state.db"))).toEqual([]);
  });
});

describe("two processes appending at once", () => {
  const distStore = fileURLToPath(new URL("../dist/state/sqlite-store.js", import.meta.url));

  function child(stateDir: string, task: string, attempts: number): Promise<{ code: number | null; stderr: string }> {
    const script = `
      const { openStateStore } = await import(${JSON.stringify(distStore)});
      const [stateDir, task, n] = process.argv.slice(1);
      const store = openStateStore(stateDir);
      for (let a = 1; a <= Number(n); a++) {
        store.append({ type: "attempt.started", run: "r-shared", task, attempt: a, prompt: "p".repeat(500) });
        store.append({ type: "gate.finished", run: "r-shared", task, attempt: a, result: { gate: "g", kind: "command", passed: true, exitCode: 0, end: "exited", durationMs: 1, outputTail: "x".repeat(2000), summary: "ok" } });
        store.append({ type: "attempt.decided", run: "r-shared", task, attempt: a, decision: "retry", reasons: [task] });
      }
      store.close();
    `;
    return new Promise((done, fail) => {
      const proc = spawn(process.execPath, ["--input-type=module", "-e", script, stateDir, task, String(attempts)], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      proc.on("error", fail);
      proc.on("close", (code) => {
        done({ code, stderr });
      });
    });
  }

  it("interleaves both writers' events without loss or corruption", async () => {
    if (!existsSync(distStore)) throw new Error(`${distStore} is missing: run \`npm run build\` first`);
    const dir = tempDir();
    const store = open(dir);
    store.append(created("r-shared", ["left", "right"]));
    const attempts = 1000;
    const results = await Promise.all([child(dir, "left", attempts), child(dir, "right", attempts), child(dir, "left-2", 0)]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });

    const events = store.events("r-shared");
    expect(events.length).toBe(1 + 2 * attempts * 3);
    const seqs = events.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    // Each writer's own events stay in its order.
    for (const task of ["left", "right"]) {
      const mine = events.filter((e) => "task" in e.event && e.event.task === task).map((e) => e.event.type);
      expect(mine.slice(0, 3)).toEqual(["attempt.started", "gate.finished", "attempt.decided"]);
    }
    const snap = store.snapshot("r-shared");
    for (const task of snap?.tasks ?? []) {
      expect(task.attempts.map((a) => a.attempt)).toEqual(Array.from({ length: attempts }, (_, i) => i + 1));
      expect(task.attempts.every((a) => a.status === "decided" && a.gates.length === 1 && a.reasons[0] === task.id)).toBe(true);
    }
    const db = new Database(join(dir, "state.db"), { readonly: true });
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(db.pragma("foreign_key_check")).toEqual([]);
    } finally {
      db.close();
    }
  });
});
