// Cost of StateStore.append (ledger insert + projection, one transaction) against raw better-sqlite3 inserts of the
// same payload JSON into a same-shaped ledger table, on an empty DB and on one pre-filled with 100,000 events.
// Run `npm run build` first, then `node bench/state-append.mjs`; prints one JSON line. Targets: p99 <= 1 ms,
// ratio (p99 / raw p99) <= 2, prefilled_ratio (p50 prefilled / p50 empty) ~ 1.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openStateStore } from "../dist/state/sqlite-store.js";

const OPS = 10_000;
const TASKS = 200;
const REPS = 5;
const PREFILL = 100_000;
const WARMUP = 500;

const pad = (n, unit) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
const PROMPT = pad(2000, "Implement the parser for the config file and add tests. ");
const OUTPUT = pad(4000, "test/parser.test.ts > parses nested keys ✓ 3ms\n");

/** The events a run of `tasks` tasks produces, in order, until `count` events after run.created. */
function workload(run, count, tasks = TASKS) {
  const created = {
    type: "run.created",
    run,
    pipeline: "bench",
    pipelineFile: "pipelines/bench.yaml",
    workspace: "/work/project",
    tasks: Array.from({ length: tasks }, (_, i) => ({ id: `task-${i}`, maxAttempts: 1000 })),
    spec: { pipeline: "bench", tasks: Array.from({ length: tasks }, (_, i) => ({ id: `task-${i}`, prompt: "do it" })) },
  };
  const events = [];
  for (let attempt = 1; events.length < count; attempt++) {
    for (let t = 0; t < tasks && events.length < count; t++) {
      const task = `task-${t}`;
      const group = [];
      if (attempt === 1) group.push({ type: "task.started", run, task });
      group.push({ type: "attempt.started", run, task, attempt, prompt: PROMPT });
      group.push({
        type: "agent.finished",
        run,
        task,
        attempt,
        result: { exitCode: 0, signal: null, end: "exited", durationMs: 93_412, outputTail: OUTPUT, claims: "Added the parser and 4 tests." },
      });
      group.push({
        type: "changes.detected",
        run,
        task,
        attempt,
        files: [
          { path: "src/parser.ts", status: "modified", added: 40, removed: 3, binary: false },
          { path: "test/parser.test.ts", status: "added", added: 61, removed: 0, binary: false },
        ],
        linesChanged: 104,
        checkpoint: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
      });
      for (const gate of ["typecheck", "test"]) {
        group.push({
          type: "gate.finished",
          run,
          task,
          attempt,
          result: {
            gate,
            kind: "command",
            passed: attempt % 3 === 0,
            exitCode: attempt % 3 === 0 ? 0 : 1,
            end: "exited",
            durationMs: 2100,
            outputTail: OUTPUT.slice(0, 1500),
            tests: { passed: 41, failed: 1, skipped: 0, total: 42 },
            summary: "exit 1 after 2.1s, 41 passed, 1 failed",
          },
        });
      }
      group.push({ type: "attempt.decided", run, task, attempt, decision: "retry", reasons: ["gate test failed: 1 failed"] });
      events.push(...group);
    }
  }
  return { created, events: events.slice(0, count) };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeEach(events, op) {
  const times = new Float64Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const t0 = process.hrtime.bigint();
    op(events[i]);
    times[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  times.sort();
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

function measureStore(stateDir, runId) {
  const store = openStateStore(stateDir);
  try {
    const warm = workload(`${runId}-warm`, WARMUP, 10);
    store.append(warm.created);
    for (const e of warm.events) store.append(e);
    const { created, events } = workload(runId, OPS);
    store.append(created);
    return timeEach(events, (e) => store.append(e));
  } finally {
    store.close();
  }
}

function measureRaw(dir, runId) {
  const db = new Database(join(dir, "raw.db"));
  try {
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, type TEXT NOT NULL, time TEXT NOT NULL, payload TEXT NOT NULL);
             CREATE INDEX events_run_seq ON events (run_id, seq);`);
    const insert = db.prepare("INSERT INTO events (run_id, type, time, payload) VALUES (?, ?, ?, ?)");
    const time = new Date().toISOString();
    const rows = (events) => events.map((e) => [e.run, e.type, JSON.stringify({ ...e, time })]);
    for (const [run, type, payload] of rows(workload(`${runId}-warm`, WARMUP, 10).events)) insert.run(run, type, time, payload);
    return timeEach(rows(workload(runId, OPS).events), ([run, type, payload]) => insert.run(run, type, time, payload));
  } finally {
    db.close();
  }
}

/** A state dir whose state.db already holds PREFILL events of 10 earlier runs. */
function buildPrefilled(dir) {
  const stateDir = join(dir, "prefilled-template");
  const store = openStateStore(stateDir);
  const perRun = PREFILL / 10;
  for (let r = 0; r < 10; r++) {
    const { created, events } = workload(`r-prefill-${r}`, perRun - 1);
    store.append(created);
    for (const e of events) store.append(e);
  }
  store.close(); // checkpoints the WAL into state.db
  return join(stateDir, "state.db");
}

export function run() {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "orc-bench-state-"));
  try {
    const template = buildPrefilled(dir);
    const empty = [];
    const raw = [];
    const prefilled = [];
    for (let rep = 0; rep < REPS; rep++) {
      const repDir = join(dir, `rep-${rep}`);
      empty.push(measureStore(join(repDir, "empty"), `r-empty-${rep}`));
      raw.push(measureRaw(mkdtempSync(join(dir, "raw-")), `r-raw-${rep}`));
      const preDir = join(repDir, "prefilled");
      openStateStore(preDir).close();
      copyFileSync(template, join(preDir, "state.db"));
      prefilled.push(measureStore(preDir, `r-pre-${rep}`));
    }
    const p50 = median(empty.map((m) => m.p50));
    const p99 = median(empty.map((m) => m.p99));
    const rawP50 = median(raw.map((m) => m.p50));
    const rawP99 = median(raw.map((m) => m.p99));
    const preP50 = median(prefilled.map((m) => m.p50));
    const preP99 = median(prefilled.map((m) => m.p99));
    const round = (n) => Math.round(n * 100) / 100;
    return {
      name: "state-append",
      ops: OPS,
      reps: REPS,
      p50_us: round(p50),
      p99_us: round(p99),
      raw_p50_us: round(rawP50),
      raw_p99_us: round(rawP99),
      ratio: round(p99 / rawP99),
      p50_ratio: round(p50 / rawP50),
      prefilled_p50_us: round(preP50),
      prefilled_p99_us: round(preP99),
      prefilled_ratio: round(preP50 / p50),
      prefilled_p99_ratio: round(preP99 / p99),
      on: base,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(run()));
}
