import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { LATEST_SCHEMA_VERSION } from "../src/state/migrations.js";
import { REPO, Rig, type CliResult } from "./helpers/rig.js";

/**
 * state.db files written by released orcs (tests/fixtures/state/released-*.db, made by make-released.mjs there) must
 * still load in this one: upgraded in place by the first command that writes, then read through the CLI's
 * documented JSON exactly as the manifest beside each file recorded it, and a paused run in one must still resume.
 * Each test works on a copy: opening a fixture migrates it, so the committed file is never opened.
 */

const DIR = join(REPO, "tests", "fixtures", "state");
const FIXTURES = readdirSync(DIR)
  .filter((f) => /^released-.*\.db$/.test(f))
  .sort();

interface ManifestAttempt {
  attempt: number;
  status: string;
  decision?: string;
  gates: { gate: string; passed: boolean }[];
}
interface ManifestTask {
  id: string;
  status: string;
  maxAttempts: number;
  attempts: ManifestAttempt[];
}
interface ManifestBreakpoint {
  id: string;
  task: string;
  attempt: number;
  rule: string;
  status: string;
  resolution?: string;
}
interface ManifestRun {
  id: string;
  role: string;
  pipeline: string;
  status: string;
  tasks: ManifestTask[];
  breakpoints: ManifestBreakpoint[];
  events: number;
  eventTypes: string[];
}
interface Manifest {
  orcVersion: string;
  commit: string;
  schemaVersion: number;
  workspace: string;
  events: number;
  runs: ManifestRun[];
  openBreakpoints: { id: string; run: string; task: string; attempt: number; rule: string }[];
  resume: { run: string; breakpoint: string; status: string; tasks: { id: string; status: string }[] };
}

/** `orc status --json`, as README.md documents it (only the fields read here). */
interface Status {
  run: { id: string; status: string; pipeline: string };
  tasks: {
    id: string;
    status: string;
    maxAttempts: number;
    attempts: { attempt: number; status: string; decision?: string; gates: { gate: string; passed: boolean }[] }[];
  }[];
  breakpoints: { id: string; run: string; task: string; attempt: number; rule: string; status: string; resolution?: string }[];
}
interface LoggedEvent {
  type: string;
  time: string;
  run: string;
}

/** The part of `orc status --json` the manifest records (make-released.mjs projects it the same way). */
function recorded(status: Status): { status: string; pipeline: string; tasks: ManifestTask[]; breakpoints: ManifestBreakpoint[] } {
  return {
    status: status.run.status,
    pipeline: status.run.pipeline,
    tasks: status.tasks.map((t) => ({
      id: t.id,
      status: t.status,
      maxAttempts: t.maxAttempts,
      attempts: t.attempts.map((a) => ({
        attempt: a.attempt,
        status: a.status,
        ...(a.decision === undefined ? {} : { decision: a.decision }),
        gates: a.gates.map((g) => ({ gate: g.gate, passed: g.passed })),
      })),
    })),
    breakpoints: status.breakpoints.map((b) => ({
      id: b.id,
      task: b.task,
      attempt: b.attempt,
      rule: b.rule,
      status: b.status,
      ...(b.resolution === undefined ? {} : { resolution: b.resolution }),
    })),
  };
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A run stores its workspace as an absolute path, and `orc resume` works there. A fixture's is the temp directory it
 * was made in (`<tmp>/orc-released-XXXXXX/project`), long gone: the test takes that path's parent for the duration
 * of `use` (an exclusive mkdir, so runs of this test in other checkouts on the same machine wait their turn; one
 * left behind by a killed test is taken over after 5 minutes) and removes it afterwards. `use` gets false when the
 * path cannot be made here (another OS's temp directory).
 */
async function withRecordedParent(workspace: string, use: (made: boolean) => Promise<void> | void): Promise<void> {
  const parent = dirname(workspace);
  if (!isAbsolute(workspace) || !basename(parent).startsWith("orc-released-")) throw new Error(`unexpected fixture workspace ${workspace}`);
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(parent);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") {
        await use(false);
        return;
      }
    }
    try {
      if (Date.now() - statSync(parent).mtimeMs > 5 * 60_000) rmSync(parent, { recursive: true, force: true });
    } catch {
      // removed by its owner meanwhile
    }
    if (Date.now() - start > 45_000) throw new Error(`${parent} stayed in use for 45 s`);
    await sleep(100);
  }
  try {
    await use(true);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}

it("finds the released state fixtures", () => {
  expect(FIXTURES.length).toBeGreaterThan(0);
});

describe.each(FIXTURES)("a state.db written by a released orc: %s", (file) => {
  const fixture = join(DIR, file);
  const manifest = JSON.parse(readFileSync(fixture.replace(/\.db$/, ".json"), "utf8")) as Manifest;
  const run = (role: string): ManifestRun => {
    const found = manifest.runs.find((r) => r.role === role);
    if (found === undefined) throw new Error(`${file}: the manifest has no ${role} run`);
    return found;
  };
  const committed = sha256(fixture);

  let rig: Rig;
  let stateDir: string;
  const env = (): Record<string, string> => ({ ORC_STATE_DIR: stateDir });
  const orc = (args: readonly string[]): CliResult => rig.orc(args, { env: env() });
  const logs = (id: string): LoggedEvent[] => {
    const result = orc(["logs", id, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as LoggedEvent);
  };
  /**
   * Read-only commands refuse a state.db at an older schema ("run a command that writes state once"): `orc resume`
   * of a finished run opens the store for writing, which migrates it, and then refuses (exit 2) without writing a
   * run.
   */
  const upgrade = (): CliResult => {
    const result = orc(["resume", run("succeeded").id]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`run ${run("succeeded").id} is succeeded`);
    return result;
  };

  beforeEach(() => {
    rig = new Rig("orc-state-fixture-");
    stateDir = rig.path("state");
    mkdirSync(stateDir);
    copyFileSync(fixture, join(stateDir, "state.db"));
  });
  afterEach(() => {
    rig.cleanup();
  });
  afterAll(() => {
    // Opening the committed file would have migrated it (or left WAL side files next to it).
    expect(sha256(fixture)).toBe(committed);
    expect(existsSync(`${fixture}-wal`)).toBe(false);
  });

  it("is one self-contained file at the schema its manifest names", () => {
    const db = new Database(join(stateDir, "state.db"), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(manifest.schemaVersion);
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
    }
    expect(manifest.schemaVersion).toBeLessThanOrEqual(LATEST_SCHEMA_VERSION);
    expect(file).toBe(`released-v${manifest.schemaVersion}.db`);
  });

  it("is migrated to this orc's schema by the first command that writes, without losing an event", () => {
    upgrade();
    const db = new Database(join(stateDir, "state.db"), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(LATEST_SCHEMA_VERSION);
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
    }
    const counted = manifest.runs.map((r) => logs(r.id).length);
    expect(counted).toEqual(manifest.runs.map((r) => r.events));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(manifest.events);
    // A second open finds nothing left to migrate and changes nothing.
    upgrade();
    expect(manifest.runs.map((r) => logs(r.id).length)).toEqual(counted);
  });

  describe("read through the CLI's JSON as the released orc recorded it", () => {
    beforeEach(() => {
      upgrade();
    });

    it("orc runs --json lists every run with its status", () => {
      const runs = rig.json<{ id: string; status: string; pipeline: string }[]>(["runs", "--json"], { env: env() });
      const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
      expect(runs.map((r) => ({ id: r.id, status: r.status, pipeline: r.pipeline })).sort(byId)).toEqual(
        manifest.runs.map((r) => ({ id: r.id, status: r.status, pipeline: r.pipeline })).sort(byId),
      );
    });

    it("orc status RUN --json gives each run's tasks, attempts, gates and breakpoints", () => {
      for (const r of manifest.runs) {
        const status = rig.json<Status>(["status", r.id, "--json"], { env: env() });
        expect(status.run.id).toBe(r.id);
        expect(recorded(status), `${r.role} run ${r.id}`).toEqual({ status: r.status, pipeline: r.pipeline, tasks: r.tasks, breakpoints: r.breakpoints });
        // The text view renders every stored payload too.
        const text = orc(["status", r.id]);
        expect(text.code, text.stderr).toBe(0);
        expect(text.stdout).toContain(`run ${r.id}: ${r.status}`);
      }
    });

    it("orc breakpoints --json lists the open breakpoint", () => {
      const open = rig.json<Status["breakpoints"]>(["breakpoints", "--json"], { env: env() });
      expect(open.map((b) => ({ id: b.id, run: b.run, task: b.task, attempt: b.attempt, rule: b.rule }))).toEqual(manifest.openBreakpoints);
      expect(open.every((b) => b.status === "open")).toBe(true);
    });

    it("orc logs RUN --json replays each run's events in order", () => {
      for (const r of manifest.runs) {
        const events = logs(r.id);
        expect(events.map((e) => e.type), `${r.role} run ${r.id}`).toEqual(r.eventTypes);
        for (const e of events) {
          expect(e.run).toBe(r.id);
          expect(Number.isNaN(Date.parse(e.time))).toBe(false);
        }
        // The text view renders the stored payloads too (some events, such as agent.spawned, have no line of their own).
        const text = orc(["logs", r.id]);
        expect(text.code, text.stderr).toBe(0);
        expect(text.stderr).toBe("");
        expect(text.stdout).toContain(r.id);
      }
    });
  });

  it("orc resolve --approve, then orc resume, takes the paused run to its end in the recorded workspace", async (context) => {
    const paused = run("paused");
    const bp = manifest.resume.breakpoint;
    await withRecordedParent(manifest.workspace, (made) => {
      if (!made) {
        context.skip(`cannot make the fixture's workspace path ${manifest.workspace} here`);
        return;
      }
      // An empty directory: the tasks left to run write their own files (their gates check only those).
      mkdirSync(manifest.workspace);
      const resolved = orc(["resolve", bp, "--approve", "--note", "approved by the fixture test"]);
      expect(resolved.stderr).toBe("");
      expect(resolved.code).toBe(0);
      expect(rig.json<unknown[]>(["breakpoints", "--json"], { env: env() })).toEqual([]);

      const resumed = orc(["resume", manifest.resume.run]);
      expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
      expect(resumed.stderr).toBe("");

      const status = rig.json<Status>(["status", manifest.resume.run, "--json"], { env: env() });
      expect(status.run.status).toBe(manifest.resume.status);
      expect(status.tasks.map((t) => ({ id: t.id, status: t.status }))).toEqual(manifest.resume.tasks);
      expect(status.breakpoints.find((b) => b.id === bp)).toMatchObject({ status: "resolved", resolution: "approve" });
      // The ledger goes on after the events the released orc wrote, which are unchanged.
      const events = logs(manifest.resume.run).map((e) => e.type);
      expect(events.slice(0, paused.events)).toEqual(paused.eventTypes);
      expect(events.slice(paused.events)).toContain("breakpoint.resolved");
      expect(events.at(-1)).toBe("run.finished");
      // The other runs are untouched.
      for (const r of manifest.runs.filter((x) => x.id !== manifest.resume.run)) expect(logs(r.id)).toHaveLength(r.events);
    });
  });

  // The released orc printed a GitError with a stack trace and exited 1 here.
  it("orc resume of a run whose workspace is gone says so in one line, exit 2", async (context) => {
    await withRecordedParent(manifest.workspace, (made) => {
      if (!made) context.skip(`cannot hold the fixture's workspace path ${manifest.workspace} here`);
      // The parent is held (so no other test makes the workspace meanwhile); the workspace itself does not exist.
      const resumed = orc(["resume", manifest.resume.run]);
      expect(resumed.stderr.trim().split("\n")).toHaveLength(1);
      expect(resumed.stderr).toContain(manifest.workspace);
      expect(resumed.code).toBe(2);
      expect(logs(manifest.resume.run)).toHaveLength(run("paused").events);
    });
  });
});
