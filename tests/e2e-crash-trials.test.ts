import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng } from "./helpers/prng.js";
import { isAlive, Rig } from "./helpers/rig.js";

/**
 * kill -9 of the real orc at random moments of a multi-task run, then `orc resume`, many times with a fixed seed. Each
 * task's agent appends its name to effects.log in the workspace and leaves a grandchild behind in its process group;
 * every process of an attempt writes its pid where the test can see it.
 */
const TRIALS = 30;
const SEED = 20261205;
const TASKS = ["alpha", "beta", "gamma"];

const AGENT = (pids: string): string => `#!/bin/sh
echo $$ > "${pids}/agent-$ORC_TASK_ID-$ORC_ATTEMPT-$$"
sleep 30 & echo $! > "${pids}/grandchild-$ORC_TASK_ID-$ORC_ATTEMPT-$!"
sleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 3 ))
echo "$ORC_TASK_ID" >> effects.log
echo "$ORC_TASK_ID done" > "$ORC_TASK_ID.txt"
kill $! 2>/dev/null
echo "wrote $ORC_TASK_ID"
`;

const GATE = (pids: string): string => `#!/bin/sh
echo $$ > "${pids}/gate-$$"
sleep 0.1
grep -q "done" "$1.txt"
`;

function pipeline(rig: Rig): string {
  // Local: the trial checks by host pid that nothing outlives orc, and the processes record those pids outside the
  // workspace (the sandbox's own pid namespace and read-only host would hide both).
  return `version: 1
name: crashy
transport: local
agent: { kind: command, run: sh ${rig.path("agent.sh")} }
gates: { wrote: { run: sh ${rig.path("gate.sh")} {{task}} } }
tasks:
${TASKS.map((t, i) => `  - { id: ${t}, prompt: "${t}", gates: [${t}-gate]${i > 0 ? `, needs: [${TASKS[i - 1] ?? ""}]` : ""} }`).join("\n")}
`.replace(/gates: \{ wrote: .*\n/, `gates:\n${TASKS.map((t) => `  ${t}-gate: { run: sh ${rig.path("gate.sh")} ${t} }`).join("\n")}\n`);
}

/** Pids the attempt processes wrote; a file whose process already exited is harmless. */
function attemptPids(dir: string): number[] {
  return readdirSync(dir).map((name) => Number(name.slice(name.lastIndexOf("-") + 1))).filter((pid) => Number.isInteger(pid) && pid > 1);
}

async function allGoneWithin(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    alive = alive.filter(isAlive);
  }
  return alive;
}

describe(`kill -9 of orc at ${String(TRIALS)} random moments, then orc resume`, () => {
  let rig: Rig;
  const random = prng(SEED);
  const outcomes: { trial: number; killedAfterMs: number; accepted: number }[] = [];

  beforeAll(() => {
    rig = new Rig();
  });
  afterAll(() => {
    rig.cleanup();
  });

  it.each(Array.from({ length: TRIALS }, (_, i) => i + 1))("trial %i: the run completes, each task's effect happens once, nothing outlives orc by 2 s", async (trial) => {
    const dir = `t${String(trial)}`;
    const pids = rig.path(`${dir}/pids`);
    rig.write(`${dir}/pids/.keep`, "");
    rig.write(`${dir}/ws/.keep`, "");
    rig.write("agent.sh", AGENT(pids).replaceAll(pids, "$ORC_PIDS"));
    rig.write("gate.sh", GATE(pids).replaceAll(pids, "$ORC_PIDS"));
    rig.write("crashy.yaml", pipeline(rig));
    const env = { ORC_STATE_DIR: rig.path(`${dir}/state`), ORC_PIDS: pids };

    const killedAfterMs = Math.round(150 + random() * 1500);
    const running = rig.start(["apply", "crashy.yaml", "--workspace", `${dir}/ws`], { env });
    await new Promise((r) => setTimeout(r, killedAfterMs));
    running.child.kill("SIGKILL");
    await running.finished();

    const survivors = await allGoneWithin(attemptPids(pids), 2_000);
    expect(survivors, `attempt processes alive 2 s after orc was killed (trial ${String(trial)}, ${String(killedAfterMs)} ms)`).toEqual([]);

    const runs = rig.json<{ id: string; status: string }[]>(["runs", "--json"], { env });
    const run = runs[0];
    if (run !== undefined && run.status !== "succeeded") {
      const resumed = rig.orc(["resume", run.id], { env });
      expect(resumed.stderr).toBe("");
      expect(resumed.code, resumed.stdout).toBe(0);
    } else if (run === undefined) {
      // Killed before the run was recorded: nothing ran, so a fresh apply does the work.
      expect(rig.orc(["apply", "crashy.yaml", "--workspace", `${dir}/ws`], { env }).code).toBe(0);
    }
    const status = rig.json<{ run: { status: string }; tasks: { id: string; status: string }[] }>(["status", "--json"], { env });
    expect(status.run.status).toBe("succeeded");
    expect(status.tasks.map((t) => t.status)).toEqual(TASKS.map(() => "accepted"));
    const effects = readFileSync(rig.path(`${dir}/ws/effects.log`), "utf8").trim().split("\n");
    expect(effects, `trial ${String(trial)} killed after ${String(killedAfterMs)} ms`).toEqual(TASKS);

    const dbFile = join(rig.path(`${dir}/state`), "state.db");
    expect(existsSync(dbFile)).toBe(true);
    const db = new Database(dbFile, { readonly: true });
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
    }
    outcomes.push({ trial, killedAfterMs, accepted: status.tasks.length });
  });

  it("killed orc at moments spread over the whole run", () => {
    expect(outcomes).toHaveLength(TRIALS);
    const times = outcomes.map((o) => o.killedAfterMs).sort((a, b) => a - b);
    expect(times[0]).toBeLessThan(500);
    expect(times.at(-1)).toBeGreaterThan(1200);
  });
});
