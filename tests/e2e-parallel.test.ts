import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { userGit } from "./helpers/git-workspace.js";
import { gone, REPO, Rig } from "./helpers/rig.js";
import { leaveAsCrashed, trimLedgerAfter } from "./helpers/crashed-run.js";

interface Status {
  run: { id: string; status: string };
  tasks: {
    id: string;
    status: string;
    reason?: string;
    attempts: { attempt: number; decision?: string; reasons: string[]; rolledBack?: boolean; changes?: { files: { path: string }[]; checkpoint?: string } }[];
  }[];
}

/**
 * The agent of every task: `own/<task>.txt` for each task (disjoint); the tasks named `shared-*` also put their name
 * into the one line of `shared.txt`, so two of them side by side conflict. The line keeps a sorted set of names, so
 * a retry on top of another's merged work keeps both, whatever order they merge in. It checks that its directory
 * holds no other task's unmerged work, and that the workspace's ignored `node_modules/` is there to use.
 */
const AGENT = join(REPO, "tests", "fixtures", "parallel-agent.mjs");

const TASKS = ["shared-a", "shared-b", "d1", "d2", "d3", "d4", "d5", "d6"];

function pipeline(rig: Rig, extra = ""): string {
  return `version: 1
name: parallel
concurrency: 4
agent: { kind: command, run: node ${AGENT} }
${extra}tasks:
${TASKS.map((t) => `  - { id: ${t}, prompt: "write your file" }`).join("\n")}
`;
}

/** Every file under `dir` (not .git) with its content, for comparing two workspaces. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name === ".git") continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[relative(dir, full)] = readFileSync(full, "utf8");
    }
  };
  walk(dir);
  return out;
}

/** A git workspace with a committed `shared.txt`, an ignored `node_modules/` and the agent beside it. */
function project(rig: Rig): void {
  rig.write("ws/shared.txt", "# shared\nvalue = base\nend\n");
  rig.write("ws/.gitignore", "node_modules/\n");
  rig.write("ws/node_modules/dep/index.js", "export default 1;\n");
  userGit(rig.path("ws"), ["init", "-q"]);
  userGit(rig.path("ws"), ["add", "-A"]);
  userGit(rig.path("ws"), ["commit", "-qm", "init"]);
  rig.write("pipeline.yaml", pipeline(rig));
}

describe("tasks side by side (concurrency above 1)", () => {
  let rig: Rig;
  let taskDirs: string;
  beforeEach(() => {
    rig = new Rig();
    taskDirs = join(rig.base, "task-dirs");
    project(rig);
  });
  afterEach(() => {
    rig.cleanup();
  });

  it("runs each task in its own directory: change sets hold only the task's own files, disjoint work merges, a conflict is retried on the merged state", () => {
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.run.status).toBe("succeeded");
    for (const task of status.tasks) {
      expect(task.status).toBe("accepted");
      for (const attempt of task.attempts) {
        const own = task.id.startsWith("shared-") ? [`own/${task.id}.txt`, "shared.txt"] : [`own/${task.id}.txt`];
        expect(attempt.changes?.files.map((f) => f.path)).toEqual(own);
      }
    }
    // The disjoint tasks merged at their first attempt; of the conflicting pair, one merged and the other was sent
    // back with the conflict as its reason, and its retry (on top of the merged state) kept both.
    for (const t of status.tasks.filter((t) => t.id.startsWith("d"))) expect(t.attempts.map((a) => a.decision)).toEqual(["accept"]);
    const shared = status.tasks.filter((t) => t.id.startsWith("shared-"));
    const retried = shared.filter((t) => t.attempts.length === 2);
    expect(retried).toHaveLength(1);
    expect(retried[0]?.attempts[0]?.decision).toBe("retry");
    expect(retried[0]?.attempts[0]?.reasons.join(" ")).toContain("merge conflict in shared.txt");
    expect(rig.read("ws/shared.txt")).toBe("# shared\nvalue = shared-a+shared-b\nend\n");
    for (const t of TASKS) expect(rig.read(`ws/own/${t}.txt`)).toMatch(new RegExp(`^${t} attempt \\d\\n$`));
    // The retry's prompt carried the conflict as evidence.
    const logs = rig.orc(["logs", status.run.id]).stdout;
    expect(logs).toMatch(/does not merge: shared\.txt changed since the task started/);

    // Nothing left behind: no task directories, no worktree entries or branches in the user's repository.
    expect(readdirSync(taskDirs)).toEqual([]);
    expect(existsSync(rig.path("ws/.git/worktrees"))).toBe(false);
    expect(userGit(rig.path("ws"), ["branch", "--list"]).trim().split("\n")).toHaveLength(1);
    expect(userGit(rig.path("ws"), ["worktree", "list"]).trim().split("\n")).toHaveLength(1);
    expect(userGit(rig.path("ws"), ["status", "--porcelain"]).split("\n").filter(Boolean).sort()).toEqual([" M shared.txt", "?? own/"]);
  });

  it("sends a task back when a merge gate fails on the merged result, and runs the merge gates in the run's workspace", () => {
    // The merge gate fails while the run's workspace holds more than 6 own/ files: the last two to merge are sent
    // back, and (max_attempts: 1) pause at the merge-failed breakpoint.
    rig.write(
      "pipeline.yaml",
      pipeline(
        rig,
        `defaults: { max_attempts: 1, merge_gates: [few] }
gates:
  few: { run: "test $(ls own | wc -l) -le 6" }
`,
      ).replace(/shared-a/, "x1").replace(/shared-b/, "x2"),
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(result.code).toBe(3);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks.filter((t) => t.status === "accepted")).toHaveLength(6);
    const paused = status.tasks.filter((t) => t.status === "paused");
    expect(paused).toHaveLength(2);
    for (const t of paused) expect(t.attempts[0]?.reasons.join(" ")).toContain("merge gate few failed on the workspace with this task's work merged in");
    expect(readdirSync(rig.path("ws/own"))).toHaveLength(6);
    const bps = rig.json<{ rule: string }[]>(["breakpoints", "--json"]);
    expect(bps.map((b) => b.rule)).toEqual(["merge-failed", "merge-failed"]);
    expect(readdirSync(taskDirs)).toEqual([]);
  });

  it("merges a paused task's work once a human approves it, and `--approve` of work that does not merge fails the task", () => {
    rig.write(
      "pipeline.yaml",
      pipeline(
        rig,
        `breakpoints:
  - { id: look, when: 'task.id == "d1" || task.id == "shared-b"', action: pause }
`,
      ),
    );
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } }).code).toBe(3);
    // Paused work is in no merge: the workspace has shared-a's line, not shared-b's, and no d1 file.
    expect(rig.read("ws/shared.txt")).toBe("# shared\nvalue = shared-a\nend\n");
    expect(existsSync(rig.path("ws/own/d1.txt"))).toBe(false);
    expect(readdirSync(taskDirs)).toEqual([]);
    const bps = rig.json<{ id: string; task: string }[]>(["breakpoints", "--json"]);
    for (const bp of bps) expect(rig.orc(["resolve", bp.id, "--approve"]).code).toBe(0);
    const runId = rig.json<Status>(["status", "--json"]).run.id;
    const resumed = rig.orc(["resume", runId], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(resumed.code).toBe(1);
    const status = rig.json<Status>(["status", "--json"]);
    expect(status.tasks.find((t) => t.id === "d1")?.status).toBe("accepted");
    expect(rig.read("ws/own/d1.txt")).toBe("d1 attempt 1\n");
    // shared-b's approved line was written on the workspace before shared-a's merge: it conflicts, and only another
    // attempt could redo it.
    const b = status.tasks.find((t) => t.id === "shared-b");
    expect(b?.status).toBe("failed");
    expect(b?.reason).toMatch(/^approved at breakpoint .*, but its work does not merge: merge conflict in shared\.txt/);
    expect(rig.read("ws/shared.txt")).toBe("# shared\nvalue = shared-a\nend\n");
    expect(readdirSync(taskDirs)).toEqual([]);
  });

  it("`orc rollback --task` also undoes the work merged after that task's directory was made; resume redoes it", () => {
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } }).code).toBe(0);
    const runId = rig.json<Status>(["status", "--json"]).run.id;
    const done = contents(rig.path("ws"));
    expect(rig.orc(["rollback", runId, "--task", "d3"]).code).toBe(0);
    // Every task still accepted has its work in the workspace; every task to run again has none of it.
    const after = rig.json<Status>(["status", "--json"]);
    const pending = after.tasks.filter((t) => t.status === "pending").map((t) => t.id);
    expect(pending).toContain("d3");
    // `orc status` marks every attempt it undid, those merged after d3's directory was made included: no task to run
    // again keeps an accepted attempt.
    for (const t of after.tasks) if (t.status === "pending") expect(t.attempts.filter((a) => a.decision === "accept" && a.rolledBack !== true), t.id).toEqual([]);
    for (const t of after.tasks) {
      if (!t.id.startsWith("d")) continue;
      expect(existsSync(rig.path(`ws/own/${t.id}.txt`))).toBe(t.status === "accepted");
    }
    expect(rig.orc(["resume", runId], { env: { ORC_TASK_DIRS: taskDirs } }).code).toBe(0);
    const normalise = (c: Record<string, string>): Record<string, string> =>
      Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.replace(/attempt \d/, "attempt N")]));
    expect(normalise(contents(rig.path("ws")))).toEqual(normalise(done));
  });

  it("`orc rollback --task` of a task whose directory was made while another's merge was in progress undoes that merge too", () => {
    // The order, forced: a merges, and its merge gate waits until c's directory exists; b fails once a's work is in
    // the workspace, so c starts (and takes its base) while a's merge is still running. c's base lacks a's work,
    // though c's directory was recorded after a's merge began.
    const ws = rig.path("ws");
    rig.write(
      "race.yaml",
      `version: 1
name: race
concurrency: 2
transport: local
defaults: { max_attempts: 1 }
agent: { kind: command, run: "if [ \\"$ORC_TASK_ID\\" = b ]; then until [ -e ${ws}/own/a.txt ]; do sleep 0.05; done; exit 1; fi; node ${AGENT}" }
gates:
  c-started: { run: "for i in $(seq 600); do [ -n \\"$(find ${taskDirs} -maxdepth 2 -name c)\\" ] && exit 0; sleep 0.05; done; exit 1" }
tasks:
  - { id: a, prompt: go, merge_gates: [c-started] }
  - { id: b, prompt: go }
  - { id: c, prompt: go }
`,
    );
    const applied = rig.orc(["apply", "race.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs, AGENT_MS: "0" } });
    expect(applied.code, applied.stdout + applied.stderr).toBe(1);
    const runId = rig.json<Status>(["status", "--json"]).run.id;
    const ended = rig.json<Status>(["status", "--json", runId]).tasks.map((t) => [t.id, t.status]);
    expect(ended).toEqual([["a", "accepted"], ["b", "failed"], ["c", "accepted"]]);
    expect(readdirSync(rig.path("ws/own")).sort()).toEqual(["a.txt", "c.txt"]);

    expect(rig.orc(["rollback", runId, "--task", "c"]).code).toBe(0);
    const after = rig.json<Status>(["status", "--json", runId]);
    // a's file went with c's base, so a runs again too: no task is accepted whose work is not in the workspace.
    expect(after.tasks.find((t) => t.id === "a")?.status).toBe("pending");
    expect(after.tasks.find((t) => t.id === "c")?.status).toBe("pending");
    expect(existsSync(rig.path("ws/own"))).toBe(false);
  });

  it("`orc rollback --to` the checkpoint after a merged attempt keeps that attempt: resume does not run it again", () => {
    rig.write(
      "two.yaml",
      `version: 1
name: two
concurrency: 2
transport: local
defaults: { max_attempts: 1 }
agent: { kind: command, run: node ${AGENT} }
tasks:
  - { id: a, prompt: go }
  - { id: b, prompt: go, needs: [a] }
`,
    );
    expect(rig.orc(["apply", "two.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs, AGENT_MS: "0" } }).code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    const runId = status.run.id;
    const after = status.tasks.find((t) => t.id === "a")?.attempts[0]?.changes?.checkpoint ?? "";
    expect(after).toMatch(/^[0-9a-f]{40}$/);

    const rolled = rig.orc(["rollback", runId, "--to", after.slice(0, 12)]);
    expect(rolled.stdout).toContain("1 attempt undone");
    const back = rig.json<Status>(["status", "--json", runId]);
    expect(back.tasks.map((t) => [t.id, t.status, t.attempts.map((x) => x.rolledBack === true)])).toEqual([
      ["a", "accepted", [false]],
      ["b", "pending", [true]],
    ]);
    expect(rig.read("ws/own/a.txt")).toBe("a attempt 1\n");
    expect(existsSync(rig.path("ws/own/b.txt"))).toBe(false);

    expect(rig.orc(["resume", runId], { env: { ORC_TASK_DIRS: taskDirs, AGENT_MS: "0" } }).code).toBe(0);
    const done = rig.json<Status>(["status", "--json", runId]);
    expect(done.tasks.find((t) => t.id === "a")?.attempts).toHaveLength(1);
    expect(rig.read("ws/own/a.txt")).toBe("a attempt 1\n");
    expect(rig.read("ws/own/b.txt")).toBe("b attempt 2\n");
  });

  it("kill -9 mid-run, then `orc resume`, ends with the same workspace as an uninterrupted run", async () => {
    const clean = new Rig();
    try {
      project(clean);
      expect(clean.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: join(clean.base, "task-dirs") } }).code).toBe(0);

      const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } });
      await running.waitFor(/merged into the workspace/);
      running.child.kill("SIGKILL");
      await running.finished();
      const pid = running.child.pid ?? 0;
      expect(await gone(pid)).toBe(true);
      const runId = /^run (r-\S+):/m.exec(running.stdout)?.[1] ?? "";
      // Directories of the tasks in flight were left behind by the crash; resume finds and replaces them.
      expect(readdirSync(join(taskDirs, runId)).length).toBeGreaterThan(0);
      const resumed = rig.orc(["resume", runId], { env: { ORC_TASK_DIRS: taskDirs } });
      expect(resumed.stderr).toBe("");
      expect(resumed.code).toBe(0);
      const normalise = (c: Record<string, string>): Record<string, string> =>
        Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.replace(/attempt \d/, "attempt N")]));
      expect(normalise(contents(rig.path("ws")))).toEqual(normalise(contents(clean.path("ws"))));
      expect(readdirSync(taskDirs)).toEqual([]);
      expect(existsSync(rig.path("ws/.git/worktrees"))).toBe(false);
    } finally {
      clean.cleanup();
    }
  });

  it("orc stopped after a merge and before recording the decision: resume accepts the merged attempt instead of running it again", () => {
    rig.write("one.yaml", `version: 1\nname: one\nconcurrency: 2\ntransport: local\nagent: { kind: command, run: node ${AGENT} }\ntasks:\n  - { id: d1, prompt: "write your file" }\n`);
    expect(rig.orc(["apply", "one.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } }).code).toBe(0);
    const runId = rig.json<Status>(["status", "--json"]).run.id;
    // As kill -9 leaves it in that window: the ledger ends at `merge.finished`; the attempt and task still running.
    leaveAsCrashed(rig.stateDir(), runId, (db) => {
      trimLedgerAfter(db, runId, "merge.finished", true);
      db.prepare("UPDATE attempts SET status = 'running', decision = NULL, reasons = NULL, finished_at = NULL WHERE run_id = ?").run(runId);
      db.prepare("UPDATE tasks SET status = 'running', reason = NULL WHERE run_id = ?").run(runId);
    });
    const before = contents(rig.path("ws"));

    const resumed = rig.orc(["resume", runId], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const status = rig.json<Status>(["status", "--json", runId]);
    const task = status.tasks.find((t) => t.id === "d1");
    expect(task?.status).toBe("accepted");
    expect(task?.attempts.map((a) => a.decision)).toEqual(["accept"]); // no second attempt
    expect(task?.reason).toContain("attempt 1 was accepted before orc stopped");
    expect(contents(rig.path("ws"))).toEqual(before);
  });

  it("an approval that `--wait` was merging when orc stopped still applies on resume: the approved work merges, no new attempt", () => {
    rig.write("one.yaml", `version: 1\nname: one\nconcurrency: 2\ntransport: local\nagent: { kind: command, run: node ${AGENT} }\ntasks:\n  - { id: d1, prompt: "write your file" }\nbreakpoints:\n  - { id: look, when: 'true', action: pause }\n`);
    expect(rig.orc(["apply", "one.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } }).code).toBe(3);
    const runId = rig.json<Status>(["status", "--json"]).run.id;
    const [bp] = rig.json<{ id: string }[]>(["breakpoints", "--json"]);
    expect(rig.orc(["resolve", bp?.id ?? "", "--approve"]).code).toBe(0);
    // As a `--wait` run leaves it when it dies merging the approved work: the task running again (`task.started`).
    leaveAsCrashed(rig.stateDir(), runId, (db) => {
      db.prepare("UPDATE tasks SET status = 'running', reason = NULL WHERE run_id = ?").run(runId);
    });
    const resumed = rig.orc(["resume", runId], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const task = rig.json<Status>(["status", "--json", runId]).tasks.find((t) => t.id === "d1");
    expect(task?.status).toBe("accepted");
    expect(task?.attempts.map((a) => a.decision)).toEqual(["pause"]);
    expect(rig.read("ws/own/d1.txt")).toBe("d1 attempt 1\n");
  });

  it("refuses a task directories' root others can enter, with one line and nothing run", () => {
    mkdirSync(taskDirs, { mode: 0o755 });
    chmodSync(taskDirs, 0o755);
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`orc: error: the task directories' root ${taskDirs} must be a directory of your own that only you can enter (mode 700); remove it or set ORC_TASK_DIRS\n`);
    expect(result.stdout).toBe("");
    expect(readdirSync(taskDirs)).toEqual([]);
  });

  it("runs tasks side by side in a workspace that is not a git repository", () => {
    rig.write("plain/shared.txt", "# shared\nvalue = base\nend\n");
    rig.write("plain/node_modules/dep/index.js", "export default 1;\n");
    rig.write(
      "pipeline.yaml",
      `version: 1
name: plain
concurrency: 2
agent: { kind: command, run: node ${AGENT} }
tasks:
  - { id: shared-a, prompt: go }
  - { id: shared-b, prompt: go }
  - { id: d1, prompt: go }
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "plain"], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(rig.read("plain/shared.txt")).toBe("# shared\nvalue = shared-a+shared-b\nend\n");
    expect(readdirSync(rig.path("plain/own")).sort()).toEqual(["d1.txt", "shared-a.txt", "shared-b.txt"]);
    // The linked node_modules never became part of the workspace's work.
    expect(readdirSync(rig.path("plain/node_modules"))).toEqual(["dep"]);
    expect(readdirSync(taskDirs)).toEqual([]);
  });

  it("runs each task's directory in the sandbox, which binds it writable and leaves the run's workspace read-only", () => {
    // The agent inside the workspace too: the sandbox's /tmp is its own, and the rig lives under the host's.
    rig.write("ws/agent.mjs", readFileSync(AGENT, "utf8"));
    rig.write(
      "pipeline.yaml",
      `version: 1
name: sandboxed
concurrency: 2
transport: sandbox
agent: { kind: command, run: "node agent.mjs && ! touch ${rig.path("ws", "escaped.txt")}" }
tasks:
  - { id: shared-a, prompt: go }
  - { id: d1, prompt: go }
`,
    );
    const result = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"], { env: { ORC_TASK_DIRS: taskDirs } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readdirSync(rig.path("ws/own")).sort()).toEqual(["d1.txt", "shared-a.txt"]);
    expect(existsSync(rig.path("ws/escaped.txt"))).toBe(false);
  });
});
