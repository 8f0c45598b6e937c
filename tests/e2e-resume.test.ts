import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { gone, isAlive, Rig } from "./helpers/rig.js";
import { leaveAsCrashed, trimLedgerAfter } from "./helpers/crashed-run.js";

interface Status {
  run: { id: string; status: string; reason?: string };
  tasks: { id: string; status: string; attempts: { attempt: number; status: string; decision?: string }[] }[];
}

/** Slow until the file FAST exists beside it; records its pid so the test can check it was killed. */
const SLOW_AGENT = `
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const here = ${JSON.stringify("RIG")};
writeFileSync(join(here, "agent-" + process.env.ORC_TASK_ID + ".pid"), String(process.pid));
const finish = () => { writeFileSync("done-" + process.env.ORC_TASK_ID, "yes\\n"); console.log("done"); };
if (existsSync(join(here, "FAST"))) finish();
else { console.log("working"); setInterval(() => console.log("still working"), 200); setTimeout(finish, 60_000); }
`;

describe("interrupting and resuming a run", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("ws/.keep", "");
    rig.write("agent.mjs", SLOW_AGENT.replace(JSON.stringify("RIG"), JSON.stringify(rig.dir)));
    rig.write(
      "pipeline.yaml",
      `version: 1
name: resumable
transport: local
agent: { kind: command, run: node ${rig.path("agent.mjs")} }
tasks:
  - { id: first, prompt: one }
  - { id: second, needs: [first], prompt: two }
`,
    );
  });
  afterEach(() => { rig.cleanup(); });

  it("SIGINT kills the agent, exits 130 with state consistent, and `orc resume` finishes the run", async () => {
    rig.write("FAST", "");
    // first finishes quickly; make second slow by removing FAST once first is accepted.
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"]);
    await running.waitFor("[first] accepted");
    rmSync(rig.path("FAST"));
    await running.waitFor("[second] attempt 1/3 started");
    const pidFile = rig.path("agent-second.pid");
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 20));
    const agentPid = Number(readFileSync(pidFile, "utf8"));
    expect(isAlive(agentPid)).toBe(true);

    running.child.kill("SIGINT");
    expect(await running.finished()).toBe(130);
    expect(await gone(agentPid)).toBe(true);
    expect(running.stdout).toContain("[second] attempt 1 interrupted");

    const paused = rig.json<Status>(["status", "--json"]);
    expect(paused.run.status).toBe("paused");
    expect(paused.tasks.find((t) => t.id === "first")?.status).toBe("accepted");
    const second = paused.tasks.find((t) => t.id === "second");
    expect(second?.status).toBe("pending");
    expect(second?.attempts).toMatchObject([{ attempt: 1, status: "interrupted" }]);

    rig.write("FAST", "");
    const resumed = rig.orc(["resume", paused.run.id]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`run ${paused.run.id} resumed`);
    const after = rig.json<Status>(["status", "--json"]);
    expect(after.run.status).toBe("succeeded");
    // first is not run again; second's interrupted attempt does not count against its budget.
    expect(after.tasks.find((t) => t.id === "first")?.attempts).toHaveLength(1);
    expect(after.tasks.find((t) => t.id === "second")?.attempts.map((a) => [a.attempt, a.status, a.decision ?? null])).toEqual([
      [1, "interrupted", null],
      [2, "decided", "accept"],
    ]);
  });

  it("resumes a run whose orc process was killed with SIGKILL mid-attempt: the agent dies with orc, the attempt reruns", async () => {
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"]);
    await running.waitFor("[first] attempt 1/3 started");
    const pidFile = rig.path("agent-first.pid");
    for (let i = 0; i < 500 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 20));
    const agent = Number(readFileSync(pidFile, "utf8"));
    running.child.kill("SIGKILL");
    await running.finished();
    // The agent runs in its own process group, out of reach of the signal that killed orc; orc's watchdog stops it.
    expect(await gone(agent, 2_000)).toBe(true);

    const crashed = rig.json<Status>(["status", "--json"]);
    expect(crashed.run.status).toBe("running");

    rig.write("FAST", "");
    const resumed = rig.orc(["resume", crashed.run.id]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout, resumed.stdout).toMatch(/\[first\] attempt 1 interrupted\n/);
    expect(resumed.stdout).toContain("[first] workspace restored to where the interrupted attempt started, which runs again");
    const after = rig.json<Status>(["status", "--json"]);
    expect(after.run.status).toBe("succeeded");
    expect(after.tasks[0]?.attempts.map((a) => a.status)).toEqual(["interrupted", "decided"]);
  });

  it("refuses a second orc while the first drives the run, and takes over once it is dead", async () => {
    const running = rig.start(["apply", "pipeline.yaml", "--workspace", "ws"]);
    await running.waitFor("[first] attempt 1/3 started");
    const run = rig.json<Status>(["status", "--json"]).run.id;
    const refused = rig.orc(["resume", run]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`run ${run} is still running in process ${String(running.child.pid)}`));
    running.child.kill("SIGKILL");
    await running.finished();
    rig.write("FAST", "");
    expect(rig.orc(["resume", run]).code).toBe(0);
  });

  it("records the agent's exit the moment it happens: a SIGKILL of orc right after the agent exits finds it in the DB", async () => {
    rig.write("quick-agent.mjs", `console.log("I changed nothing and I am done."); process.exit(0);\n`);
    // The gate is the first thing orc starts after the agent's exit (no baseline run before it): it says so, then waits
    // to be killed.
    rig.write("gate.mjs", `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(rig.path("gate.pid"))}, String(process.pid));\nsetTimeout(() => {}, 60_000);\n`);
    rig.write(
      "killed.yaml",
      `version: 1
name: killed-after-exit
transport: local
agent: { kind: command, run: node ${rig.path("quick-agent.mjs")} }
gates: { check: { run: node ${rig.path("gate.mjs")} } }
tasks:
  - { id: only, prompt: do nothing, gates: [check], baseline: false }
`,
    );
    const running = rig.start(["apply", "killed.yaml", "--workspace", "ws"]);
    const gatePid = rig.path("gate.pid");
    for (let i = 0; i < 3000 && !existsSync(gatePid); i++) await new Promise((r) => setTimeout(r, 5));
    running.child.kill("SIGKILL");
    await running.finished();
    try {
      const crashed = rig.json<Status & { tasks: { attempts: { agent?: { exitCode: number; claims: string }; changes?: { files: unknown[] } }[] }[] }>(["status", "--json"]);
      expect(crashed.run.status).toBe("running");
      const attempt = crashed.tasks[0]?.attempts[0];
      expect(attempt?.status).toBe("running");
      expect(attempt?.agent).toMatchObject({ exitCode: 0, claims: "I changed nothing and I am done." });
      expect(attempt?.changes?.files).toEqual([]);
    } finally {
      // The gate outlives nothing: orc's watchdog stops it once orc is gone.
      expect(await gone(Number(readFileSync(gatePid, "utf8")), 2_000)).toBe(true);
    }
  });

  it("orc stopped after accepting an attempt and before ending its task: resume ends the task, with no second attempt", () => {
    rig.write("FAST", "");
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]).code).toBe(0);
    const runId = rig.json<Status>(["status", "--json"]).run.id;
    // As kill -9 leaves it in that window: the ledger ends at the first task's `attempt.decided`, the task running.
    leaveAsCrashed(rig.stateDir(), runId, (db) => {
      trimLedgerAfter(db, runId, "attempt.decided");
      db.prepare("DELETE FROM attempts WHERE run_id = ? AND task_id = 'second'").run(runId);
      db.prepare("UPDATE tasks SET status = 'running', reason = NULL WHERE run_id = ? AND id = 'first'").run(runId);
      db.prepare("UPDATE tasks SET status = 'pending', reason = NULL WHERE run_id = ? AND id = 'second'").run(runId);
    });
    rmSync(rig.path("ws/done-second"));

    const resumed = rig.orc(["resume", runId]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const status = rig.json<Status>(["status", "--json", runId]);
    expect(status.tasks.map((t) => [t.id, t.status, t.attempts.length])).toEqual([["first", "accepted", 1], ["second", "accepted", 1]]);
  });

  it("orc stopped after a rule failed the task and before it undid the task's work: resume fails it and undoes the work", () => {
    rig.write("FAST", "");
    rig.write("fails.yaml", `version: 1\nname: fails\ntransport: local\nagent: { kind: command, run: node ${rig.path("agent.mjs")} }\ntasks:\n  - { id: first, prompt: one }\nbreakpoints:\n  - { id: stop, when: 'true', action: fail, message: not wanted }\n`);
    expect(rig.orc(["apply", "fails.yaml", "--workspace", "ws"]).code).toBe(1);
    const runId = rig.json<Status>(["status", "--json"]).run.id;
    expect(existsSync(rig.path("ws/done-first"))).toBe(false); // the failed task's work was undone
    leaveAsCrashed(rig.stateDir(), runId, (db) => {
      trimLedgerAfter(db, runId, "attempt.decided");
      db.prepare("UPDATE tasks SET status = 'running', reason = NULL WHERE run_id = ?").run(runId);
    });
    rig.write("ws/done-first", "yes\n"); // the work as the crash left it, before the undo
    const resumed = rig.orc(["resume", runId]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(1);
    const status = rig.json<Status>(["status", "--json", runId]);
    expect(status.tasks.map((t) => [t.id, t.status, t.attempts.length])).toEqual([["first", "failed", 1]]);
    expect(existsSync(rig.path("ws/done-first"))).toBe(false);
  });

  it("refuses to resume a finished run or an unknown one with exit 2", () => {
    rig.write("FAST", "");
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]).code).toBe(0);
    const id = rig.json<Status>(["status", "--json"]).run.id;
    const again = rig.orc(["resume", id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`orc: error: run ${id} is succeeded; only paused, interrupted or crashed runs can be resumed\n`);
    const unknown = rig.orc(["resume", "r-nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('orc: error: unknown run "r-nope" (see `orc runs`)\n');
    const status = rig.orc(["status", "r-nope"]);
    expect(status.code).toBe(2);
    const logs = rig.orc(["logs", "r-nope"]);
    expect(logs.code).toBe(2);
  });
});
