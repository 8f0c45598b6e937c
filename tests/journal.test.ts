import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../src/core/events.js";
import { committedReads, Journal } from "../src/run/journal.js";
import { openStateStore, type SqliteStateStore } from "../src/state/sqlite-store.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const undo of cleanup.splice(0)) undo();
});

function setup(): { store: SqliteStateStore; heard: string[]; journal: Journal } {
  const dir = mkdtempSync(join(tmpdir(), "orc-journal-test-"));
  const store = openStateStore(dir);
  cleanup.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  store.append({ type: "run.created", run: "r-1", pipeline: "p", pipelineFile: "p.yaml", workspace: dir, tasks: [{ id: "t", maxAttempts: 2 }], spec: {} });
  const heard: string[] = [];
  const journal = new Journal(store, (event: RunEvent) => heard.push(event.type));
  return { store, heard, journal };
}

describe("the run's journal", () => {
  it("commits deferred events with the next record, in order, and only then tells the listeners", () => {
    const { store, heard, journal } = setup();
    journal.defer({ type: "task.started", run: "r-1", task: "t" });
    journal.defer({ type: "attempt.started", run: "r-1", task: "t", attempt: 1, prompt: "go" });
    expect(store.events("r-1").map((e) => e.event.type)).toEqual(["run.created"]);
    expect(heard).toEqual([]);
    const stored = journal.record({ type: "agent.finished", run: "r-1", task: "t", attempt: 1, result: { exitCode: 0, signal: null, end: "exited", durationMs: 1, outputTail: "", claims: "" } });
    expect(stored.event.type).toBe("agent.finished");
    expect(store.events("r-1").map((e) => e.event.type)).toEqual(["run.created", "task.started", "attempt.started", "agent.finished"]);
    expect(heard).toEqual(["task.started", "attempt.started", "agent.finished"]);
  });

  it("never holds an event past the current turn of the event loop", async () => {
    const { store, heard, journal } = setup();
    journal.defer({ type: "task.started", run: "r-1", task: "t" });
    expect(store.snapshot("r-1")?.tasks[0]?.status).toBe("pending");
    await new Promise((done) => setImmediate(done));
    expect(store.snapshot("r-1")?.tasks[0]?.status).toBe("running");
    expect(heard).toEqual(["task.started"]);
  });

  it("flush() commits what is held back, and a later turn commits nothing twice", async () => {
    const { store, journal } = setup();
    journal.defer({ type: "task.started", run: "r-1", task: "t" });
    journal.flush();
    journal.flush();
    await new Promise((done) => setImmediate(done));
    expect(store.events("r-1").map((e) => e.event.type)).toEqual(["run.created", "task.started"]);
  });

  it("committedReads commits what the journal holds back before every read, and writes straight through", () => {
    const { store, heard, journal } = setup();
    const reads = committedReads(store, () => {
      journal.flush();
    });
    journal.defer({ type: "task.started", run: "r-1", task: "t" });
    expect(store.snapshot("r-1")?.tasks[0]?.status).toBe("pending");
    expect(reads.snapshot("r-1")?.tasks[0]?.status).toBe("running");
    expect(heard).toEqual(["task.started"]);
    journal.defer({ type: "task.finished", run: "r-1", task: "t", status: "failed", reason: "gave up" });
    expect(reads.events("r-1").map((e) => e.event.type)).toEqual(["run.created", "task.started", "task.finished"]);
    reads.append({ type: "run.finished", run: "r-1", status: "failed", reason: "t failed" });
    expect(reads.getRun("r-1")?.status).toBe("failed");
    expect(heard).toEqual(["task.started", "task.finished"]);
  });

  it("keeps a batch the store refused, in order, for the next commit; a refused deferred commit does not throw", async () => {
    const { store, heard } = setup();
    let refuse = 2;
    const flaky = committedReads(store, () => undefined);
    const refusing = {
      ...flaky,
      appendAll: (events: Parameters<typeof store.appendAll>[0]) => {
        if (refuse-- > 0) throw new Error("SQLITE_BUSY: database is locked");
        return store.appendAll(events);
      },
    };
    const journal = new Journal(refusing, (event: RunEvent) => heard.push(event.type));
    journal.defer({ type: "task.started", run: "r-1", task: "t" });
    journal.defer({ type: "attempt.started", run: "r-1", task: "t", attempt: 1, prompt: "go" });
    await new Promise((done) => setImmediate(done)); // the deferred commit is refused, quietly
    expect(() => journal.record({ type: "agent.spawned", run: "r-1", task: "t", attempt: 1, process: { pid: 1 } })).toThrow("SQLITE_BUSY");
    expect(store.events("r-1").map((e) => e.event.type)).toEqual(["run.created"]);
    journal.flush();
    expect(store.events("r-1").map((e) => e.event.type)).toEqual(["run.created", "task.started", "attempt.started", "agent.spawned"]);
    expect(heard).toEqual(["task.started", "attempt.started", "agent.spawned"]);
  });
});
