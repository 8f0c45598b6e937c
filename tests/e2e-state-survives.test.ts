import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

/**
 * "Undo and survive": nothing an agent does inside its workspace destroys orc's run records or checkpoints. By
 * default they are out of its reach; inside it (`state: .orc`), orc notices the loss, writes back what it held and
 * stops the run with one line; a damaged state.db is refused with one line and left as it is.
 */

interface Status {
  run: { id: string; status: string; reason?: string };
  tasks: {
    id: string;
    status: string;
    attempts: { attempt: number; status: string; decision?: string; changes?: { files: { path: string; status: string }[]; checkpoint?: string } }[];
  }[];
}

/** Each task runs `agent`, then writes out.txt; MARK (a file outside the workspace) makes it do so only once. */
function pipeline(agent: string): string {
  return `version: 1
name: survive
transport: local
agent: { kind: command, run: 'test -f "$MARK" || { touch "$MARK"; ${agent}; }; echo done > out.txt' }
gates:
  wrote: { run: "test -f out.txt" }
tasks:
  - { id: a, prompt: first, gates: [wrote] }
  - { id: b, prompt: second, needs: [a], gates: [wrote] }
`;
}

const RM_ORC = "rm -rf .orc";
const DELETE_ALL = "find . -mindepth 1 -delete";

function gitRepo(dir: string): void {
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir, stdio: "ignore" });
  git("init", "-q");
  writeFileSync(join(dir, "README.md"), "hello\n");
  git("add", "-A");
  git("commit", "-q", "-m", "init");
}

describe("state out of the agent's reach (the default location)", () => {
  let rig: Rig;
  let env: Record<string, string>;
  beforeEach(() => {
    rig = new Rig();
    env = { MARK: join(rig.base, "mark") };
  });
  afterEach(() => {
    rig.cleanup();
  });

  it.each([
    ["rm -rf .orc", RM_ORC],
    ["deletes everything in the workspace, .git included", DELETE_ALL],
  ])("an agent that runs `%s` leaves the run, its attempts and checkpoints intact", (_name, agent) => {
    gitRepo(rig.dir);
    rig.write("pipeline.yaml", pipeline(agent));
    mkdirSync(rig.path(".orc"), { recursive: true }); // what an old orc left: the agent may delete it, nothing depends on it
    const applied = rig.orc(["apply", "pipeline.yaml"], { env });
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);

    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("succeeded");
    expect(status.tasks.map((t) => [t.id, t.status, t.attempts.length])).toEqual([
      ["a", "accepted", 1],
      ["b", "accepted", 1],
    ]);
    expect(rig.orc(["runs"]).stdout).toMatch(new RegExp(`^${status.run.id} {2}succeeded {2}\\S+ {2}survive\\n$`));

    // The first attempt's checkpoint is in the store, and shows what the agent did.
    const first = status.tasks[0]?.attempts[0]?.changes;
    expect(first?.files).toContainEqual({ path: "out.txt", status: "added", added: 1, removed: 0, binary: false });
    if (agent === DELETE_ALL) {
      expect(first?.files).toContainEqual(expect.objectContaining({ path: "pipeline.yaml", status: "deleted" }));
      expect(existsSync(rig.path(".git"))).toBe(false);
    }
    const store = join(rig.stateDir(), "checkpoints.git");
    const git = (...args: string[]) => execFileSync("git", ["--git-dir", store, ...args], { encoding: "utf8" });
    expect(git("for-each-ref", "--format=%(refname)")).toContain(`refs/orc/runs/${status.run.id}/a/1\n`);
    expect(git("ls-tree", "--name-only", first?.checkpoint ?? "none")).toContain("out.txt\n");
  });
});

describe("state inside the workspace, deleted by the agent", () => {
  let rig: Rig;
  let env: Record<string, string>;
  beforeEach(() => {
    rig = new Rig();
    env = { MARK: join(rig.base, "mark") };
    rig.write("orchestrator.yaml", "version: 1\nstate: ws/.orc\n");
    mkdirSync(rig.path("ws"));
    gitRepo(rig.path("ws"));
  });
  afterEach(() => {
    rig.cleanup();
  });

  it.each([
    ["rm -rf .orc", RM_ORC],
    ["deletes everything in the workspace, .git included", DELETE_ALL],
  ])("an agent that runs `%s`: one line, exit 130, the run written back and resumable", (_name, agent) => {
    rig.write("pipeline.yaml", pipeline(agent));
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env });
    const id = /^run (r-\S+):/.exec(applied.stdout)?.[1] ?? "";
    const db = rig.path("ws", ".orc", "state.db");
    expect(applied.stderr).toBe(
      `orc: error: ${db} was deleted or replaced during the run; orc wrote back the records it held; run ${id} is paused: \`orc resume ${id}\` continues\n`,
    );
    expect(applied.code).toBe(130);

    // What the run recorded before and after the deletion is there, and says what happened.
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run).toMatchObject({ id, status: "paused" });
    expect(status.run.reason).toContain("state database was deleted during the run");
    // The run noticed right after the agent: the attempt is closed as interrupted and runs again on resume.
    expect(status.tasks[0]?.attempts.map((a) => a.status)).toEqual(["interrupted"]);
    const logs = rig.orc(["logs", id]).stdout;
    expect(logs).toContain("[a] attempt 1/3 started");
    expect(logs).toContain("[a] agent exited 0");
    expect(rig.orc(["runs"]).stdout).toMatch(new RegExp(`^${id} {2}paused `));

    const resumed = rig.orc(["resume", id], { env });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const done = rig.json<Status>(["status", "--json"]);
    expect(done.run.status).toBe("succeeded");
    expect(done.tasks[0]?.attempts.map((a) => a.status)).toEqual(["interrupted", "decided"]);
    expect(done.tasks.map((t) => t.status)).toEqual(["accepted", "accepted"]);
  });

  it("keeps what it held beside a file the agent put in its place, and touches neither", () => {
    rig.write("pipeline.yaml", pipeline("rm -rf .orc && mkdir .orc && echo junk > .orc/state.db"));
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env });
    const db = rig.path("ws", ".orc", "state.db");
    expect(applied.stderr).toMatch(/^orc: error: \S+ was deleted or replaced during the run; orc wrote back the records it held to \S+state\.db\.recovered-\S+ \(something else took its name\); run r-\S+ is paused: `orc resume r-\S+` continues\n$/);
    expect(applied.code).toBe(130);
    expect(readFileSync(db, "utf8")).toBe("junk\n");
    const recovered = readdirSync(dirname(db)).filter((f) => f.startsWith("state.db.recovered-"));
    expect(recovered).toHaveLength(1);
    const refused = rig.orc(["status"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${db} is damaged (file is not a database`);
    // Put in place by hand, it is the run, paused where it stopped.
    renameSync(db, `${db}.junk`);
    renameSync(join(dirname(db), recovered[0] ?? ""), db);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("paused");
    expect(status.tasks[0]?.attempts).toHaveLength(1);
  });
});

describe("a state.db deleted by an agent outside the workspace's state folder", () => {
  let rig: Rig;
  afterEach(() => {
    rig.cleanup();
  });

  it("is noticed after that agent, written back, and the run stops paused with one line, resumable", () => {
    rig = new Rig();
    const db = rig.path("state", "state.db");
    rig.write("orchestrator.yaml", "version: 1\nstate: state\n");
    rig.write("ws/.keep", "");
    rig.write("pipeline.yaml", pipeline('rm -f "$DB" "$DB-wal" "$DB-shm"'));
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { MARK: join(rig.base, "mark"), DB: db } });
    const run = rig.json<Status>(["status", "--json"]).run.id;
    expect(applied.stderr).toBe(`orc: error: ${db} was deleted or replaced during the run; orc wrote back the records it held; run ${run} is paused: \`orc resume ${run}\` continues\n`);
    expect(applied.code).toBe(130);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("paused");
    const resumed = rig.orc(["resume", run], { env: { MARK: join(rig.base, "mark"), DB: db } });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(rig.json<Status>(["status", "--json"]).tasks.map((t) => t.status)).toEqual(["accepted", "accepted"]);
  });
});

describe("a damaged state.db", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("stops every command that opens it with one line (exit 2), runs nothing, and leaves it byte for byte", () => {
    rig.write("pipeline.yaml", 'version: 1\nagent: { kind: command, run: "touch ran" }\ntasks:\n  - { id: a, prompt: x }\n');
    const db = join(rig.stateDir(), "state.db");
    mkdirSync(dirname(db), { recursive: true });
    const garbage = Buffer.from("this is not a database, it is a text file that happens to be here\n".repeat(100));
    writeFileSync(db, garbage);
    const line = `orc: error: ${db} is damaged (file is not a database, SQLITE_NOTADB); orc left it as it is: move it aside to start afresh, or restore it from a backup\n`;
    for (const args of [["apply", "pipeline.yaml"], ["resume", "r-1"], ["status"], ["runs"], ["logs", "r-1"], ["breakpoints"], ["resolve", "bp-1", "--approve"]]) {
      const result = rig.orc(args);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 2, stderr: line });
    }
    expect(existsSync(rig.path("ran"))).toBe(false);
    expect(readFileSync(db).equals(garbage)).toBe(true);
    expect(readdirSync(dirname(db))).toEqual(["state.db"]);
  });
});
