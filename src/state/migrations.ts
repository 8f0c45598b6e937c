import type Database from "better-sqlite3";

/**
 * The schema of state.db, as an ordered list of migrations. The version of a database is `PRAGMA user_version`; the
 * pending migrations run in one transaction together with the bumps of user_version, so a crash leaves the database
 * at the version it had or at the latest. Append new migrations at the end; never edit one that has shipped.
 *
 * Large payloads (spec, prompt, agent outcome, changes, gate outcomes) are written once, in the ledger; the tables hold
 * small state plus the `seq` of the event that carries each payload, so a projection never rewrites kilobytes and a
 * read fetches the payload by primary key. A run's `updated_at` is the time of its newest event (events_run_seq).
 *
 * Hot paths and the index that serves each (no triggers, no MAX()/COUNT() over history, no full scans):
 * - append: INSERT into events (rowid = seq, the b-tree end), UPDATE runs/tasks/attempts by primary key,
 *   INSERT gate_results (rowid = the event's seq, so gates need no per-attempt counter).
 * - getRun / latestRun / listRuns: runs primary key / runs_created (created_seq DESC LIMIT 1) / an ordered walk of
 *   runs_created; updated_at: one step of events_run_seq per run.
 * - snapshot: tasks_order (run_id, ord), attempts primary key (run_id, task_id, attempt),
 *   gate_results_attempt (run_id, task_id, attempt, seq), payloads by events primary key: bounded by one run's size.
 * - events(runId, afterSeq, limit): events_run_seq (run_id, seq), a range scan that stops at `limit`.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs, tasks, attempts, gate_results and the event ledger",
    up(db) {
      db.exec(`
        CREATE TABLE runs (
          id            TEXT PRIMARY KEY,
          created_seq   INTEGER NOT NULL,
          status        TEXT NOT NULL,
          pipeline      TEXT NOT NULL,
          pipeline_file TEXT NOT NULL,
          workspace     TEXT NOT NULL,
          created_at    TEXT NOT NULL,
          finished_at   TEXT,
          reason        TEXT,
          pid           INTEGER
        );
        CREATE UNIQUE INDEX runs_created ON runs (created_seq);

        CREATE TABLE tasks (
          run_id       TEXT NOT NULL REFERENCES runs (id),
          id           TEXT NOT NULL,
          ord          INTEGER NOT NULL,
          status       TEXT NOT NULL,
          max_attempts INTEGER NOT NULL,
          reason       TEXT,
          PRIMARY KEY (run_id, id)
        );
        CREATE UNIQUE INDEX tasks_order ON tasks (run_id, ord);

        CREATE TABLE attempts (
          run_id      TEXT NOT NULL,
          task_id     TEXT NOT NULL,
          attempt     INTEGER NOT NULL,
          status      TEXT NOT NULL,
          started_at  TEXT NOT NULL,
          finished_at TEXT,
          started_seq INTEGER NOT NULL,
          agent_seq   INTEGER,
          changes_seq INTEGER,
          decision    TEXT,
          reasons     TEXT,
          PRIMARY KEY (run_id, task_id, attempt),
          FOREIGN KEY (run_id, task_id) REFERENCES tasks (run_id, id)
        );

        CREATE TABLE gate_results (
          seq     INTEGER PRIMARY KEY,
          run_id  TEXT NOT NULL,
          task_id TEXT NOT NULL,
          attempt INTEGER NOT NULL,
          gate    TEXT NOT NULL,
          passed  INTEGER NOT NULL,
          FOREIGN KEY (run_id, task_id, attempt) REFERENCES attempts (run_id, task_id, attempt)
        );
        CREATE INDEX gate_results_attempt ON gate_results (run_id, task_id, attempt, seq);

        CREATE TABLE events (
          seq     INTEGER PRIMARY KEY,
          run_id  TEXT NOT NULL,
          type    TEXT NOT NULL,
          time    TEXT NOT NULL,
          payload TEXT NOT NULL
        );
        CREATE INDEX events_run_seq ON events (run_id, seq);
      `);
    },
  },
  {
    version: 2,
    description: "breakpoints (rules that paused a task for a human, and how each was resolved)",
    up(db) {
      // Payloads (context, note) stay in the ledger: opened_seq/resolved_seq point at the events that carry them.
      // breakpoints_open serves `orc breakpoints` across runs without a scan of every breakpoint ever opened.
      db.exec(`
        CREATE TABLE breakpoints (
          id           TEXT PRIMARY KEY,
          run_id       TEXT NOT NULL,
          task_id      TEXT NOT NULL,
          attempt      INTEGER NOT NULL,
          rule         TEXT NOT NULL,
          status       TEXT NOT NULL,
          opened_seq   INTEGER NOT NULL,
          resolved_seq INTEGER,
          FOREIGN KEY (run_id, task_id) REFERENCES tasks (run_id, id)
        );
        CREATE INDEX breakpoints_run ON breakpoints (run_id, opened_seq);
        CREATE INDEX breakpoints_open ON breakpoints (opened_seq) WHERE status = 'open';
      `);
    },
  },
  {
    version: 3,
    description: "the LLM supervisor's memory: judge verdicts by input hash, and the running project summary",
    up(db) {
      // judge_verdicts: the fallback when the LLM is unavailable (an identical input gets the verdict it got before).
      // project_summary: one row, what earlier tasks did; offered to prompt templates and to the judge.
      db.exec(`
        CREATE TABLE judge_verdicts (
          hash       TEXT PRIMARY KEY,
          verdict    TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE TABLE project_summary (
          id         INTEGER PRIMARY KEY CHECK (id = 1),
          text       TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 4,
    description: "rollbacks (attempts undone by `orc rollback`) and the run's lease (which orc process drives it)",
    up(db) {
      // rolled_back_seq: the run.rolled_back event that undid the attempt. The lease: the process that drives the run
      // (pid, its start time, host) and when it last said it was alive; `orc resume` takes it over only from a dead one.
      db.exec(`
        ALTER TABLE attempts ADD COLUMN rolled_back_seq INTEGER;
        ALTER TABLE runs ADD COLUMN lease TEXT;
        ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
      `);
    },
  },
];

/** The schema version this build writes. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** state.db cannot be used by this build: written by a newer orc, or (read-only) not yet upgraded. */
export class StateSchemaError extends Error {
  readonly found: number;
  readonly expected: number;
  constructor(message: string, found: number, expected: number) {
    super(message);
    this.name = "StateSchemaError";
    this.found = found;
    this.expected = expected;
  }
}

export function schemaVersion(db: Database.Database): number {
  const version: unknown = db.pragma("user_version", { simple: true });
  return typeof version === "number" ? version : Number(version);
}

export function newerSchemaError(found: number, expected: number = LATEST_SCHEMA_VERSION): StateSchemaError {
  return new StateSchemaError(
    `state.db was written by a newer orc (schema ${found} > ${expected}): upgrade orc, or use another state directory`,
    found,
    expected,
  );
}

/** Throws StateSchemaError when the database is newer than `migrations` know. */
export function assertSupportedVersion(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = latestVersion(migrations);
  const found = schemaVersion(db);
  if (found > latest) throw newerSchemaError(found, latest);
  return found;
}

function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * Brings the database up to the newest version, every pending migration in one transaction. Safe to call on every open and from
 * several processes at once: each step takes the write lock (BEGIN IMMEDIATE) and re-reads user_version inside it, so
 * a migration another process has just applied is skipped. Returns the versions applied by this call.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (!Number.isInteger(m.version) || m.version !== i + 1) {
      throw new Error(`migrations must be numbered 1, 2, 3, ... without gaps (found ${m.version} at position ${i + 1})`);
    }
  });
  assertSupportedVersion(db, ordered);
  // Every pending migration in one transaction: a crash (kill -9 of the first `orc apply`) leaves the database at the
  // version it had or at the latest, never in between, where read-only commands would refuse it.
  const all = db.transaction(() => {
    const current = assertSupportedVersion(db, ordered);
    const pending = ordered.filter((m) => m.version > current);
    for (const m of pending) {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
    return pending.map((m) => m.version);
  });
  return all.immediate();
}
