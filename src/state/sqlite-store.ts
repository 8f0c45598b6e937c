import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import type { EventInput, GateOutcome, Lease, RunEvent } from "../core/events.js";
import type { Failure } from "../core/failure.js";
import { err, ok, type Result } from "../core/result.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, StateSchemaError, assertSupportedVersion, migrate } from "./migrations.js";
import { judgedConfidence, SqliteLlmMemory } from "./llm-memory.js";
import type { AttemptRow, BreakpointRow, LlmMemory, RunRow, RunSnapshot, StateStore, StatsRows, StoredEvent, TaskRow } from "./port.js";
import { readStats } from "./stats.js";
import { SQL } from "./sql.js";
import { attemptKey, toAttemptRow, toBreakpointRow, toRunRow, type AttemptDbRow, type BreakpointDbRow, type EventDbRow, type GateDbRow, type RunDbRow, type TaskDbRow } from "./rows.js";
import { damagedMessage, damageOf, identityOf, sameFile, writeBack, type FileIdentity } from "./intact.js";

export { SQL };

/**
 * better-sqlite3 is CommonJS: `require` loads it without the ES-module wrapper Node builds around a CommonJS package
 * `import`ed by name (a lexer pass over its source; ~2 ms of every start).
 */
const require = createRequire(import.meta.url);
let library: typeof BetterSqlite3 | undefined;
/**
 * better-sqlite3, loaded on the first store opened rather than with this module: commands that bundle the module
 * but open no store (`orc doctor`) never load the native addon.
 */
function sqlite(): typeof BetterSqlite3 {
  library ??= require("better-sqlite3") as typeof BetterSqlite3;
  return library;
}

type Database = BetterSqlite3.Database;

export const STATE_DB_FILE = "state.db";

export interface OpenStateStoreOptions {
  /**
   * For `status` and `logs`: never creates the state directory or state.db, never migrates, never takes the write
   * lock (WAL readers do not block the writer). A missing state.db reads as an empty store (`missing` is true); SQLite
   * may leave `state.db-wal`/`-shm` side files next to an existing state.db, as any WAL reader does. `append` throws.
   */
  readonly readonly?: boolean;
  /** Clock for event times (tests). */
  readonly now?: () => Date;
}


type Stmt<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

/** `run.started` found the run's lease held by another process than the one it meant to take over. */
export class LeaseHeldError extends Error {
  constructor(readonly run: string) {
    super(`run ${run} is driven by another orc process`);
    this.name = "LeaseHeldError";
  }
}

/** Thrown by `append` on an event that cannot be projected: a bug in the caller, never an expected outcome. */
export class StateProjectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateProjectionError";
  }
}

/** The store's statements, one per entry of SQL (src/state/sql.ts). */
interface Statements {
  readonly insertEvent: Stmt<[string, string, string, string]>;
  readonly insertRun: Stmt<[string, number, string, string, string, string]>;
  readonly insertTask: Stmt<[string, string, number, number]>;
  readonly runExists: Stmt<[string], { found: number }>;
  readonly runStarted: Stmt<[number, string | null, string | null, string, string | null]>;
  readonly heartbeat: Stmt<[string, string, string]>;
  readonly leaseSwapped: Stmt<[string | null, string | null, string, string | null]>;
  readonly attemptsRolledBack: Stmt<[number, string, number]>;
  readonly attemptRolledBack: Stmt<[number, string, string, number]>;
  readonly taskRolledBack: Stmt<[string, string, string]>;
  readonly runInterrupted: Stmt<[string, string]>;
  readonly tasksRequeued: Stmt<[string]>;
  readonly runFinished: Stmt<[string, string, string, string]>;
  readonly taskStarted: Stmt<[string, string]>;
  readonly taskFinished: Stmt<[string, string, string, string]>;
  readonly attemptStarted: Stmt<[string, string, number, string, number]>;
  readonly attemptAgent: Stmt<[number, string, string, number]>;
  readonly attemptChanges: Stmt<[number, string, string, number]>;
  readonly attemptDecided: Stmt<[string, string, string, string, string, number]>;
  readonly attemptInterrupted: Stmt<[string, string, string, number]>;
  readonly insertGate: Stmt<[number, string, string, number, string, number]>;
  readonly getRun: Stmt<[string], RunDbRow>;
  readonly latestRun: Stmt<[], RunDbRow>;
  readonly listRuns: Stmt<[], RunDbRow>;
  readonly runSpec: Stmt<[string], { payload: string }>;
  readonly tasks: Stmt<[string], TaskDbRow>;
  readonly attempts: Stmt<[string], AttemptDbRow>;
  readonly gates: Stmt<[string], GateDbRow>;
  readonly events: Stmt<[string, number, number], EventDbRow>;
  readonly insertBreakpoint: Stmt<[string, string, string, number, string, number]>;
  readonly taskPaused: Stmt<[string, string, string]>;
  readonly breakpointResolved: Stmt<[number, string, string]>;
  readonly runBreakpoints: Stmt<[string], BreakpointDbRow>;
  readonly breakpoint: Stmt<[string], BreakpointDbRow>;
  readonly openBreakpoints: Stmt<[], BreakpointDbRow>;
}

function prepareAll(db: Database): Statements {
  return Object.fromEntries(Object.entries(SQL).map(([key, sql]) => [key, db.prepare(sql)])) as unknown as Statements;
}

export class SqliteStateStore implements StateStore {
  readonly file: string;
  readonly readonly: boolean;
  /** True when opened read-only and state.db did not exist: the store is empty and stays so. */
  readonly missing: boolean;
  private readonly now: () => Date;
  private closed = false;

  // Bound to one connection; a write-back after the file was deleted (verifyIntact) binds them to the copy.
  private db!: Database;
  private s!: Statements;
  private appendTx!: (event: EventInput) => StoredEvent;
  private snapshotTx!: (id: string) => RunSnapshot | undefined;
  private memory: SqliteLlmMemory | undefined;
  /** The file the connection has open (the copy, after a write-back) and its identity when opened. */
  private current: string;
  private identity: FileIdentity | undefined;
  private lost: Failure | undefined;

  heartbeat(runId: string, lease: Lease): void {
    this.assertOpen();
    this.s.heartbeat.run(this.now().toISOString(), runId, JSON.stringify(lease));
  }

  swapLease(runId: string, seen: Lease | undefined, next: Lease | undefined): boolean {
    this.assertOpen();
    const json = (lease: Lease | undefined): string | null => (lease === undefined ? null : JSON.stringify(lease));
    return this.s.leaseSwapped.run(json(next), next === undefined ? null : this.now().toISOString(), runId, json(seen)).changes === 1;
  }

  /** Use `openStateStore`. */
  constructor(db: Database, file: string, options: { readonly: boolean; missing: boolean; now?: () => Date }) {
    this.file = file;
    this.current = file;
    this.readonly = options.readonly;
    this.missing = options.missing;
    this.now = options.now ?? (() => new Date());
    this.attach(db);
    this.identity = this.readonly ? undefined : identityOf(file);
  }

  private attach(db: Database): void {
    this.db = db;
    this.s = prepareAll(db);
    this.memory = undefined;
    // IMMEDIATE: take the write lock (waiting up to busy_timeout) before the first statement, so a second writer
    // process queues instead of failing with SQLITE_BUSY on a read-to-write upgrade.
    const appendTx = db.transaction((event: EventInput) => this.appendInTx(event));
    this.appendTx = (event) => appendTx.immediate(event);
    // One read transaction, so a snapshot never mixes two states of a run being written by another process.
    const snapshotTx = db.transaction((id: string) => this.snapshotInTx(id));
    this.snapshotTx = (id) => snapshotTx.deferred(id);
  }

  stats(): StatsRows {
    this.assertOpen();
    if (this.missing) return { runs: 0, tasks: [], breakpoints: [], judged: [] };
    return readStats(this.db);
  }

  llmMemory(): LlmMemory {
    this.assertOpen();
    // A read-only store of a missing database has no tables: it remembers nothing.
    if (this.missing) return { verdict: () => undefined, saveVerdict: () => undefined, summary: () => "", saveSummary: () => undefined };
    // Callers keep this object for the whole run: each call goes to the connection of the moment.
    const memory = (): SqliteLlmMemory => (this.memory ??= new SqliteLlmMemory(this.db, this.readonly));
    return {
      verdict: (hash) => memory().verdict(hash),
      saveVerdict: (hash, payload) => {
        memory().saveVerdict(hash, payload);
      },
      summary: () => memory().summary(),
      saveSummary: (text) => {
        memory().saveSummary(text);
      },
    };
  }

  verifyIntact(): Failure | undefined {
    if (this.lost !== undefined) return this.lost;
    this.assertOpen();
    if (this.readonly || sameFile(identityOf(this.current), this.identity)) return undefined;
    this.lost = this.writeBack();
    return this.lost;
  }

  /**
   * The open connection still reads the deleted file: VACUUM INTO copies it out whole (what the WAL held included).
   * The old connection closes before the copy opens: closing it deletes `state.db-wal` by name, which by then
   * would be the copy's.
   */
  private writeBack(): Failure & { reason: "state-lost" } {
    const what = `${this.current} was deleted or replaced during the run`;
    const lost = (message: string, saved: boolean) => ({ reason: "state-lost" as const, message: `${what}; ${message}`, saved });
    let where: string;
    try {
      where = writeBack(this.current, (tmp) => this.db.prepare("VACUUM INTO ?").run(tmp));
    } catch (error) {
      return lost(`orc could not write back the records it held (${errorText(error)})`, false);
    }
    this.db.close();
    try {
      this.attach(connect(where));
    } catch (error) {
      this.closed = true;
      return lost(`orc wrote back the records it held to ${where} but cannot open it (${errorText(error)})`, false);
    }
    this.current = where;
    this.identity = identityOf(where);
    return lost(`orc wrote back the records it held${where === this.file ? "" : ` to ${where} (something else took its name)`}`, true);
  }

  append(event: EventInput): StoredEvent {
    this.assertOpen();
    if (this.readonly) throw new Error("the state store was opened read-only: append is not allowed");
    return this.appendTx(event);
  }

  getRun(id: string): RunRow | undefined {
    this.assertOpen();
    const row = this.s.getRun.get(id);
    return row ? toRunRow(row) : undefined;
  }

  latestRun(): RunRow | undefined {
    this.assertOpen();
    const row = this.s.latestRun.get();
    return row ? toRunRow(row) : undefined;
  }

  /** All runs, oldest first (creation order). */
  listRuns(): readonly RunRow[] {
    this.assertOpen();
    return this.s.listRuns.all().map(toRunRow);
  }

  snapshot(id: string): RunSnapshot | undefined {
    this.assertOpen();
    return this.snapshotTx(id);
  }

  breakpoint(id: string): BreakpointRow | undefined {
    this.assertOpen();
    const row = this.s.breakpoint.get(id);
    return row ? toBreakpointRow(row) : undefined;
  }

  openBreakpoints(): readonly BreakpointRow[] {
    this.assertOpen();
    return this.s.openBreakpoints.all().map(toBreakpointRow);
  }

  runSpec(id: string): unknown {
    this.assertOpen();
    const row = this.s.runSpec.get(id);
    return row ? (JSON.parse(row.payload) as { spec?: unknown }).spec : undefined;
  }

  events(runId: string, options?: { readonly afterSeq?: number; readonly limit?: number }): readonly StoredEvent[] {
    this.assertOpen();
    const limit = options?.limit ?? -1;
    if (limit === 0) return [];
    return this.s.events
      .all(runId, options?.afterSeq ?? 0, limit < 0 ? -1 : Math.floor(limit))
      .map((row) => ({ seq: row.seq, event: JSON.parse(row.payload) as RunEvent }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("the state store is closed");
  }

  private appendInTx(input: EventInput): StoredEvent {
    const time = this.now().toISOString();
    const event = { ...input, time } as RunEvent;
    const info = this.s.insertEvent.run(event.run, event.type, time, JSON.stringify(event));
    const seq = Number(info.lastInsertRowid);
    this.project(event, seq);
    return { seq, event };
  }

  private project(e: RunEvent, seq: number): void {
    const s = this.s;
    // Every statement below finds its row by primary key (or inserts one); a row that is not there is a bug upstream.
    switch (e.type) {
      case "run.created":
        try {
          s.insertRun.run(e.run, seq, e.pipeline, e.pipelineFile, e.workspace, e.time);
        } catch (error) {
          throw constraintError(error, `run ${e.run} already exists`);
        }
        e.tasks.forEach((task, ord) => {
          try {
            s.insertTask.run(e.run, task.id, ord, task.maxAttempts);
          } catch (error) {
            throw constraintError(error, `run ${e.run} lists task ${task.id} twice`);
          }
        });
        return;
      case "run.started": {
        const lease = e.lease === undefined ? null : JSON.stringify(e.lease);
        const seen = e.takeover === undefined ? null : JSON.stringify(e.takeover);
        if (s.runStarted.run(e.pid, lease, lease === null ? null : e.time, e.run, seen).changes !== 1) {
          if (!s.runExists.get(e.run)) throw this.missingRow(e);
          throw new LeaseHeldError(e.run);
        }
        return;
      }
      case "run.rolled_back":
        s.attemptsRolledBack.run(seq, e.run, e.fromSeq);
        // Tasks side by side: attempts started before the checkpoint but merged after it are undone too.
        for (const a of e.attempts) s.attemptRolledBack.run(seq, e.run, a.task, a.attempt);
        for (const task of e.tasks) this.expectRow(s.taskRolledBack.run(`rolled back: ${e.reason}`, e.run, task), e);
        this.expectRow(s.runInterrupted.run(e.reason, e.run), e);
        return;
      case "workspace.restored":
        return; // ledger only
      case "run.interrupted":
        this.expectRow(s.runInterrupted.run(e.reason, e.run), e);
        s.tasksRequeued.run(e.run);
        return;
      case "run.finished":
        this.expectRow(s.runFinished.run(e.status, e.reason, e.time, e.run), e);
        return;
      case "task.started":
        this.expectRow(s.taskStarted.run(e.run, e.task), e);
        return;
      case "task.finished":
        this.expectRow(s.taskFinished.run(e.status, e.reason, e.run, e.task), e);
        return;
      case "attempt.started":
        try {
          s.attemptStarted.run(e.run, e.task, e.attempt, e.time, seq);
        } catch (error) {
          throw this.insertError(error, e, `attempt ${e.attempt} of task ${e.task} was already started`);
        }
        return;
      case "agent.finished":
        this.expectRow(s.attemptAgent.run(seq, e.run, e.task, e.attempt), e);
        return;
      case "changes.detected":
        this.expectRow(s.attemptChanges.run(seq, e.run, e.task, e.attempt), e);
        return;
      case "gate.finished":
        try {
          s.insertGate.run(seq, e.run, e.task, e.attempt, e.result.gate, e.result.passed ? 1 : 0);
        } catch (error) {
          throw this.insertError(error, e, "duplicate gate result");
        }
        return;
      case "attempt.decided":
        this.expectRow(s.attemptDecided.run(e.decision, JSON.stringify(e.reasons), e.time, e.run, e.task, e.attempt), e);
        return;
      case "attempt.interrupted":
        this.expectRow(s.attemptInterrupted.run(e.time, e.run, e.task, e.attempt), e);
        return;
      case "breakpoint.opened":
        try {
          s.insertBreakpoint.run(e.id, e.run, e.task, e.attempt, e.rule, seq);
        } catch (error) {
          throw this.insertError(error, e, `breakpoint ${e.id} already exists`);
        }
        this.expectRow(s.taskPaused.run(`breakpoint ${e.id}: ${e.message}`, e.run, e.task), e);
        return;
      case "breakpoint.resolved":
        if (s.breakpointResolved.run(seq, e.id, e.run).changes !== 1) {
          throw new StateProjectionError(`cannot apply ${e.type}: run ${e.run} has no open breakpoint ${e.id}`);
        }
        return;
      case "run.paused":
        this.expectRow(s.runInterrupted.run(e.reason, e.run), e);
        return;
      case "rule.fired":
      case "breakpoint.notified":
      case "prompt.rewritten":
      case "baseline.finished":
      case "task.isolated":
      case "merge.started":
      case "merge.finished":
        return; // ledger only
      case "agent.session":
      case "agent.spawned":
      case "agent.waiting":
        return; // ledger only: run/agent-call.ts reads them back when a task continues or resumes
      default:
        assertNever(e);
    }
  }

  private expectRow(info: BetterSqlite3.RunResult, e: RunEvent): void {
    if (info.changes !== 1) throw this.missingRow(e);
  }

  private insertError(error: unknown, e: RunEvent, duplicate: string): unknown {
    if (!(error instanceof sqlite().SqliteError)) return error;
    if (error.code === "SQLITE_CONSTRAINT_FOREIGNKEY") return this.missingRow(e, error);
    if (error.code.startsWith("SQLITE_CONSTRAINT")) {
      return new StateProjectionError(`cannot apply ${e.type} to run ${e.run}: ${duplicate} (${error.code})`, { cause: error });
    }
    return error;
  }

  /** The error for an event whose run, task or attempt does not exist (only built on that failure path). */
  private missingRow(e: RunEvent, cause?: unknown): StateProjectionError {
    const what = !this.s.runExists.get(e.run)
      ? `unknown run ${e.run}`
      : "attempt" in e && e.type !== "attempt.started"
        ? `run ${e.run} has no attempt ${e.attempt} of task ${e.task}`
        : "task" in e
          ? `run ${e.run} has no task ${e.task}`
          : `unknown run ${e.run}`;
    const message = `cannot apply ${e.type}: ${what} (a bug: events must follow run.created, attempt.started)`;
    return new StateProjectionError(message, cause === undefined ? undefined : { cause });
  }

  private snapshotInTx(id: string): RunSnapshot | undefined {
    const runRow = this.s.getRun.get(id);
    if (!runRow) return undefined;
    const gates = new Map<string, GateOutcome[]>();
    for (const g of this.s.gates.all(id)) {
      const key = attemptKey(g.task_id, g.attempt);
      const list = gates.get(key);
      const outcome = (JSON.parse(g.payload) as { result: GateOutcome }).result;
      if (list) list.push(outcome);
      else gates.set(key, [outcome]);
    }
    const attempts = new Map<string, AttemptRow[]>();
    for (const a of this.s.attempts.all(id)) {
      const row = toAttemptRow(a, gates.get(attemptKey(a.task_id, a.attempt)) ?? []);
      const list = attempts.get(a.task_id);
      if (list) list.push(row);
      else attempts.set(a.task_id, [row]);
    }
    const tasks = this.s.tasks.all(id).map((t): TaskRow => {
      const list = attempts.get(t.id) ?? [];
      const confidence = judgedConfidence(list);
      const base = { id: t.id, status: t.status, maxAttempts: t.max_attempts, attempts: list, ...(confidence === undefined ? {} : { confidence }) };
      return t.reason === null ? base : { ...base, reason: t.reason };
    });
    return { run: toRunRow(runRow), tasks, breakpoints: this.s.runBreakpoints.all(id).map(toBreakpointRow) };
  }
}

/**
 * Opens (creating if needed) `<stateDir>/state.db`, applies migrations, and prepares every statement once.
 * Throws StateSchemaError for a database written by a newer orc; `openState` returns that as a Failure instead.
 */
export function openStateStore(stateDir: string, opts?: OpenStateStoreOptions): SqliteStateStore {
  const file = join(stateDir, STATE_DB_FILE);
  const now = opts?.now;
  if (opts?.readonly === true) return openReadonly(file, now);

  mkdirSync(stateDir, { recursive: true });
  const db = connect(file);
  return new SqliteStateStore(db, file, now ? { readonly: false, missing: false, now } : { readonly: false, missing: false });
}

/** A writable connection: refuses a newer database, then WAL, then migrations. */
function connect(file: string): Database {
  const db = new (sqlite())(file);
  try {
    db.pragma("busy_timeout = 5000");
    // Refuse a newer database before changing anything in it.
    assertSupportedVersion(db);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function openReadonly(file: string, now: (() => Date) | undefined): SqliteStateStore {
  const options = (missing: boolean) => (now ? { readonly: true, missing, now } : { readonly: true, missing });
  if (existsSync(file)) {
    const db = new (sqlite())(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma("busy_timeout = 5000");
      const version = assertSupportedVersion(db);
      if (version === LATEST_SCHEMA_VERSION) return new SqliteStateStore(db, file, options(false));
      if (version > 0) {
        throw new StateSchemaError(
          `state.db is at schema ${version} but this orc reads schema ${LATEST_SCHEMA_VERSION}: ` +
            "run a command that writes state (apply, resume) once to upgrade it",
          version,
          LATEST_SCHEMA_VERSION,
        );
      }
      // Version 0: an empty file (a writer is creating it right now, or it was never initialised): reads as empty.
      db.close();
    } catch (error) {
      db.close();
      throw error;
    }
  }
  // Nothing on disk: an in-memory store with the same schema, so every read answers "no runs" and nothing is created.
  const memory = new (sqlite())(":memory:");
  migrate(memory, MIGRATIONS);
  memory.pragma("query_only = ON");
  return new SqliteStateStore(memory, file, options(true));
}

/**
 * `openStateStore` for the CLI: an unusable state directory or state.db (newer schema, damaged, locked, a directory
 * that cannot be created) is a `state` Failure. A damaged file is left exactly as it is.
 */
export function openState(stateDir: string, opts?: OpenStateStoreOptions): Result<SqliteStateStore, Failure> {
  const file = join(stateDir, STATE_DB_FILE);
  try {
    return ok(openStateStore(stateDir, opts));
  } catch (error) {
    if (error instanceof StateSchemaError) return err({ reason: "state", message: error.message });
    const damage = damageOf(error);
    if (damage !== undefined) return err({ reason: "state", message: damagedMessage(file, damage) });
    if (error instanceof sqlite().SqliteError) {
      return err({ reason: "state", message: `cannot open ${file}: ${error.message} (${error.code})` });
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string") {
      return err({ reason: "state", message: `cannot create orc's state directory ${stateDir} (${code}); set ORC_STATE_DIR to a directory orc can write` });
    }
    throw error;
  }
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${message}, ${code}` : message;
}

function constraintError(error: unknown, message: string | ((code: string) => string)): unknown {
  if (error instanceof sqlite().SqliteError && error.code.startsWith("SQLITE_CONSTRAINT")) {
    const text = typeof message === "string" ? message : message(error.code);
    return new StateProjectionError(`${text} (${error.code})`, { cause: error });
  }
  return error;
}

function assertNever(value: never): never {
  throw new StateProjectionError(`unknown event type ${JSON.stringify((value as { type?: unknown }).type)}`);
}
