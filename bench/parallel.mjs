// (h) Tasks side by side, each in a directory of its own (src/workspace/task-dirs.ts), merged back one at a time:
//   a. wall time of `orc apply` of 8 independent tasks, each a command agent that sleeps 1 s and writes one file, at
//      concurrency 1, 2 and 4; the ratio to the ideal speed-up is wall(c) / (wall(1) / c) (target for c=2: <= 1.3x)
//   b. making a task's directory on a generated 100,000-file git repository (bench/big-workspace.mjs), as orc does it
//      (from its shadow store: read-tree + checkout-index into a directory of its own) vs `git worktree add --detach`
//      of the same commit (then removed and pruned, untimed): both write every file once.
// Medians of several runs, each measured alternately with its floor so drift hits both alike.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "./big-workspace.mjs";
import { median, round, scratch } from "./lib.mjs";

const gitEnv = {
  PATH: process.env.PATH,
  HOME: "/nonexistent",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

function wallOfApply({ orc, dir, concurrency }) {
  const ws = join(dir, `ws-${concurrency}-${Date.now()}`);
  mkdirSync(ws);
  writeFileSync(join(ws, "README.md"), "bench\n");
  const pipeline = join(dir, `p${concurrency}.yaml`);
  const tasks = Array.from({ length: 8 }, (_, i) => `  - { id: t${i}, prompt: go }`).join("\n");
  writeFileSync(pipeline, `version: 1\nname: parallel\ntransport: local\nconcurrency: ${concurrency}\nagent: { kind: command, run: "sleep 1; echo $ORC_TASK_ID > $ORC_TASK_ID.txt" }\ntasks:\n${tasks}\n`);
  const env = { ...process.env, CI: "true", ORC_STATE_DIR: join(dir, "state"), ORC_TASK_DIRS: join(dir, "tasks") };
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [orc, "apply", pipeline, "--workspace", ws], { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`orc apply (concurrency ${concurrency}) exited ${result.status}: ${result.stderr}`);
  rmSync(ws, { recursive: true, force: true });
  return ms;
}

async function taskDirectoryCost({ runs, dirs, perDir }) {
  const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
  const [{ LocalWorkspace }, { LocalTransport }, { TaskDirectories }] = await Promise.all([
    dist("workspace/local.js"),
    dist("transports/local.js"),
    dist("workspace/task-dirs.js"),
  ]);
  const dir = scratch("orc-bench-taskdir-");
  const ws = join(dir, "ws");
  const stateDir = join(dir, "state");
  mkdirSync(ws);
  try {
    generate(ws, dirs, perDir);
    const transport = new LocalTransport();
    const main = await LocalWorkspace.open({ dir: ws, stateDir, runId: "bench", transport, exclusive: false });
    const checkpoint = await main.checkpointBefore();
    const tasks = new TaskDirectories({ main, stateDir, runId: "bench", root: join(dir, "tasks"), transport });
    const worktree = join(dir, "worktree");
    const git = (...args) => execFileSync("git", ["-c", "gc.auto=0", ...args], { cwd: ws, env: gitEnv, stdio: "ignore" });
    const ours = [];
    const theirs = [];
    for (let i = 0; i <= runs; i++) {
      let start = process.hrtime.bigint();
      await tasks.open("t", checkpoint);
      const oursMs = Number(process.hrtime.bigint() - start) / 1e6;
      await tasks.remove("t");
      start = process.hrtime.bigint();
      git("worktree", "add", "--detach", "--quiet", worktree, "HEAD");
      const theirsMs = Number(process.hrtime.bigint() - start) / 1e6;
      git("worktree", "remove", "--force", worktree);
      git("worktree", "prune");
      if (i === 0) continue; // warm-up
      ours.push(oursMs);
      theirs.push(theirsMs);
    }
    await tasks.removeAll();
    await main.close();
    const subject = median(ours);
    const floor = median(theirs);
    return { files: dirs * perDir, task_dir_ms: round(subject), git_worktree_add_ms: round(floor), ratio: round(subject / floor, 2), runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ orc, runs = 3, dirRuns = 5, dirs = 1000, perDir = 100 } = {}) {
  const dir = scratch("orc-bench-parallel-");
  try {
    const walls = { 1: [], 2: [], 4: [] };
    wallOfApply({ orc, dir, concurrency: 2 }); // warm-up: the bundle's first load, the state DB
    for (let i = 0; i < runs; i++) for (const c of [1, 2, 4]) walls[c].push(wallOfApply({ orc, dir, concurrency: c }));
    const [w1, w2, w4] = [median(walls[1]), median(walls[2]), median(walls[4])];
    const tasksAlone = await taskDirectoryCost({ runs: dirRuns, dirs, perDir });
    return {
      name: "parallel",
      wall_ms: { c1: round(w1), c2: round(w2), c4: round(w4) },
      speedup: { c2: round(w1 / w2, 2), c4: round(w1 / w4, 2) },
      // wall(c) against the ideal wall(1)/c: 1.0 is a perfect speed-up.
      ratio_to_ideal: { c2: round(w2 / (w1 / 2), 2), c4: round(w4 / (w1 / 4), 2) },
      target_c2: "<= 1.3",
      runs,
      task_directory: tasksAlone,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
