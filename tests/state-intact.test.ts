import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EventInput } from "../src/core/events.js";
import { stateLost } from "../src/state/port.js";
import { openStateStore, type SqliteStateStore } from "../src/state/sqlite-store.js";

/** StateStore.verifyIntact, the check the run loop makes after each attempt, on a real SQLite file. */

const dirs: string[] = [];
const stores: SqliteStateStore[] = [];

function open(dir: string, readonly = false): SqliteStateStore {
  const store = openStateStore(dir, { readonly });
  stores.push(store);
  return store;
}

function stateDir(): string {
  const base = mkdtempSync(join(tmpdir(), "orc-intact-"));
  dirs.push(base);
  return join(base, "ws", ".orc");
}

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const created = (run: string): EventInput => ({
  type: "run.created",
  run,
  pipeline: "p",
  pipelineFile: "p.yaml",
  workspace: "/ws",
  tasks: [{ id: "a", maxAttempts: 3 }],
  spec: {},
});

describe("StateStore.verifyIntact", () => {
  it("answers undefined while the file is the one it opened", () => {
    const dir = stateDir();
    const store = open(dir);
    store.append(created("r-1"));
    expect(store.verifyIntact()).toBeUndefined();
    expect(stateLost(store)).toBeUndefined();
    expect(open(dir, true).verifyIntact()).toBeUndefined();
  });

  it("writes back what it holds when the directory is deleted, and keeps writing to the copy", () => {
    const dir = stateDir();
    const store = open(dir);
    store.append(created("r-1"));
    store.append({ type: "run.started", run: "r-1", resumed: false, pid: process.pid });
    store.llmMemory().saveSummary("before");
    rmSync(join(dir, ".."), { recursive: true, force: true });

    const lost = stateLost(store);
    expect(lost).toEqual({ reason: "state-lost", saved: true, message: `${join(dir, "state.db")} was deleted or replaced during the run; orc wrote back the records it held` });
    // The same answer from then on: the run loop and the CLI each see it.
    expect(store.verifyIntact()).toBe(lost);
    // What comes after lands in the copy, the LLM memory taken before the loss included.
    store.append({ type: "run.interrupted", run: "r-1", reason: "state lost" });
    store.llmMemory().saveSummary("after");
    store.close();

    const reopened = open(dir, true);
    expect(reopened.getRun("r-1")).toMatchObject({ status: "paused", reason: "state lost" });
    expect(reopened.events("r-1").map((e) => e.event.type)).toEqual(["run.created", "run.started", "run.interrupted"]);
    expect(reopened.llmMemory().summary()).toBe("after");
  });

  it("leaves a file that took the database's name alone and keeps the copy beside it", () => {
    const dir = stateDir();
    const store = open(dir);
    store.append(created("r-1"));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, "state.db"), "junk\n");

    const lost = store.verifyIntact();
    expect(lost).toMatchObject({ reason: "state-lost", saved: true });
    expect(lost?.reason === "state-lost" && lost.message).toMatch(/ to \S+state\.db\.recovered-\S+ \(something else took its name\)$/);
    expect(readFileSync(join(dir, "state.db"), "utf8")).toBe("junk\n");
    const copy = readdirSync(dir).find((f) => f.startsWith("state.db.recovered-")) ?? "";
    store.close();
    rmSync(join(dir, "state.db"));
    writeFileSync(join(dir, "state.db"), readFileSync(join(dir, copy)));
    expect(open(dir, true).getRun("r-1")).toMatchObject({ id: "r-1" });
  });

  it("says so when it cannot write back", () => {
    const dir = stateDir();
    const store = open(dir);
    store.append(created("r-1"));
    // The workspace is gone and a file stands where it was: the directory cannot be made again.
    rmSync(join(dir, ".."), { recursive: true, force: true });
    writeFileSync(join(dir, ".."), "not a directory\n");
    const lost = store.verifyIntact();
    expect(lost).toMatchObject({ reason: "state-lost", saved: false });
    expect(lost?.reason === "state-lost" && lost.message).toContain("orc could not write back the records it held (");
  });
});
