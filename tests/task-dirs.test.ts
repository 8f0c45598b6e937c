// A task's own directory, made from the shadow store (src/workspace/task-dirs.ts), with real git: what it holds, what
// its checkpoints hold, the merge back, and what is left behind (nothing in the user's `.git`).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalTransport } from "../src/transports/local.js";
import { LocalWorkspace } from "../src/workspace/local.js";
import { TaskDirectories } from "../src/workspace/task-dirs.js";
import { fingerprint, scratchDir, userRepository, writeFile } from "./helpers/git-workspace.js";

describe("task directories", () => {
  let base: string;
  let ws: string;
  let stateDir: string;
  let main: LocalWorkspace;
  let tasks: TaskDirectories;
  const transport = new LocalTransport();

  beforeEach(async () => {
    base = scratchDir("orc-taskdirs-");
    ws = join(base, "ws");
    stateDir = join(base, "state");
    userRepository(ws, 3, 4);
    writeFile(ws, "node_modules/dep/index.js", "export default 1;\n");
    writeFile(ws, "build.log", "ignored\n");
    main = await LocalWorkspace.open({ dir: ws, stateDir, runId: "r1", transport, exclusive: false });
    tasks = new TaskDirectories({ main, stateDir, runId: "r1", root: join(base, "tasks"), transport });
  });
  afterEach(async () => {
    await tasks.removeAll();
    await main.close();
    rmSync(base, { recursive: true, force: true });
  });

  it("holds the checkpoint's files, links the ignored entries, and records only the task's own changes", async () => {
    const start = await main.checkpointBefore();
    const own = await tasks.open("t/1", start);
    expect(own.dir).toBe(join(base, "tasks", "r1", "t%2F1"));
    expect(fingerprint(own.dir, (p) => p === "node_modules" || p === "build.log")).toEqual(fingerprint(ws, (p) => p.startsWith(".git/") || p === "node_modules" || p === "build.log"));
    expect(lstatSync(join(own.dir, "node_modules")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(own.dir, "node_modules/dep/index.js"), "utf8")).toBe("export default 1;\n");
    expect(existsSync(join(own.dir, ".git"))).toBe(false);

    const before = await own.checkpointBefore();
    expect(before).toBe(start);
    writeFile(own.dir, "d00/f0.ts", "export const v = 'task';\n");
    writeFile(own.dir, "new.ts", "export {};\n");
    writeFile(ws, "d01/f1.ts", "export const v = 'someone else';\n"); // the run's workspace, meanwhile
    const changes = await own.changesSince(before, { task: "t/1", attempt: 1 });
    expect(changes.files.map((f) => f.path)).toEqual(["d00/f0.ts", "new.ts"]);
  });

  it("merges disjoint work cleanly and names the paths both changed", async () => {
    const start = await main.checkpointBefore();
    const a = await tasks.open("a", start);
    const b = await tasks.open("b", start);
    writeFile(a.dir, "d00/f0.ts", "export const v = 'a';\n");
    writeFile(b.dir, "d00/f1.ts", "export const v = 'b';\n");
    writeFile(b.dir, "d00/f0.ts", "export const v = 'b';\n");
    const aDone = (await a.changesSince(start, { task: "a", attempt: 1 })).checkpoint;
    const bDone = (await b.changesSince(start, { task: "b", attempt: 1 })).checkpoint;

    const first = await tasks.merge(start, start, aDone);
    expect(first).toEqual({ checkpoint: aDone });
    await main.restore(aDone);
    const second = await tasks.merge(start, aDone, bDone);
    expect(second).toEqual({ conflicts: ["d00/f0.ts"] });

    writeFile(b.dir, "d00/f0.ts", "export const v = 0;\n"); // b gives up its edit of f0
    const bAgain = (await b.changesSince(bDone, { task: "b", attempt: 2 })).checkpoint;
    const third = await tasks.merge(start, aDone, bAgain);
    expect("checkpoint" in third).toBe(true);
    if (!("checkpoint" in third)) return;
    await main.restore(third.checkpoint);
    expect(readFileSync(join(ws, "d00/f0.ts"), "utf8")).toBe("export const v = 'a';\n");
    expect(readFileSync(join(ws, "d00/f1.ts"), "utf8")).toBe("export const v = 'b';\n");
  });

  it("leaves nothing behind: no directory, no index, and the user's .git unchanged", async () => {
    const gitBefore = fingerprint(join(ws, ".git"), (p) => p === "index");
    const start = await main.checkpointBefore();
    const a = await tasks.open("a", start);
    writeFileSync(join(a.dir, "x.ts"), "export {};\n");
    const done = (await a.changesSince(start, { task: "a", attempt: 1 })).checkpoint;
    await tasks.merge(start, start, done);
    await tasks.remove("a");
    expect(existsSync(a.dir)).toBe(false);
    await tasks.removeAll();
    expect(existsSync(join(base, "tasks", "r1"))).toBe(false);
    expect(readdirSync(join(stateDir, "runs", "r1")).includes("tasks")).toBe(false);
    expect(fingerprint(join(ws, ".git"), (p) => p === "index")).toEqual(gitBefore);
    expect(existsSync(join(ws, ".git", "worktrees"))).toBe(false);
  });
});
