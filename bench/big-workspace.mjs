// (f) A big workspace: a generated git repository of 100,000 files in 1,000 directories on tmpfs, driven through the
// real LocalWorkspace (dist/). Each figure is a median over several attempts that change 10 files, as a ratio to
// `git status --porcelain` in the same workspace, measured in the same loop:
//   a. the change set's paths known: the live subscription's sync point and list after the attempt  <= 0.25x
//   b. orc's own time around the attempt: checkpoint before + change set (checkpoint after, diff, ref) <= 1x
//   c. the first checkpoint of a new store (borrowing the user's index and objects)                    <= 3x
//   d. rolling the attempt back (restore of the checkpoint before it)                                  <= 1.5x
// a and b edit the files right before asking, and b's attempts follow each other with only a git status between:
// the worst case for a sync point that waits for a debounce (@parcel/watcher's, 50 ms when it delivered anything in
// the last 500 ms: the fallback; on Linux orc's own inotify watches have none). b_settled is the same attempt with
// 0.6 s between the last edit and the change set and between attempts, as an agent that writes, then reports, and
// gates that run, leave it. c does not include the live subscription: it starts in the background after the first
// checkpoint, while the first attempt runs. d_rollback_command's floor: node's own start (node_start_ms, `node -e 0`
// timed in the same loop; on this machine ~0.2x of git status, ~0.45x where NODE_EXTRA_CA_CERTS is set, see
// rollbackCommandTimes) plus orc opening its state (~0.25x) plus one scan of the workspace (`git status` in the store
// with its untracked cache, about 0.6x: what changed since the last checkpoint, when no subscription ran, is known
// only by looking) plus the restore's git process (about 0.2x).
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median, round, scratch, timeCommand } from "./lib.mjs";

const env = {
  PATH: process.env.PATH,
  HOME: "/nonexistent",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@localhost",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@localhost",
};

/** One commit of `dirs` × `perDir` small files, written directly and added with one `git add`. */
export function generate(ws, dirs, perDir) {
  for (let d = 0; d < dirs; d++) {
    const dir = join(ws, `pkg${String(d).padStart(4, "0")}`, "src");
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) writeFileSync(join(dir, `file${f}.ts`), `export const v${d}_${f} = ${d * perDir + f};\n`);
  }
  writeFileSync(join(ws, ".gitignore"), "dist/\n*.log\n");
  const git = (...args) => execFileSync("git", ["-c", "gc.auto=0", ...args], { cwd: ws, env, stdio: "ignore" });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "generated");
  // Packed, as a cloned or gc'd repository is: the store links the user's few pack files, not 100,000 loose objects.
  git("repack", "-adq");
}

function gitStatus(ws) {
  const start = process.hrtime.bigint();
  const result = spawnSync("git", ["status", "--porcelain"], { cwd: ws, env, stdio: "ignore" });
  if (result.status !== 0) throw new Error("git status failed");
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** What an agent does in attempt `n`: 9 files edited, 1 created, spread over the tree. */
function attempt(ws, n) {
  for (let i = 0; i < 9; i++) appendFileSync(join(ws, `pkg${String((n * 97 + i * 111) % 1000).padStart(4, "0")}`, "src", `file${i}.ts`), `// attempt ${n}\n`);
  writeFileSync(join(ws, `pkg${String(n % 1000).padStart(4, "0")}`, "src", `new${n}.ts`), `export const attempt = ${n};\n`);
}

/**
 * `orc rollback` of a real run's attempt, the whole command, with git status and node's own start (`node -e 0`) timed
 * beside each. Where the environment sets NODE_EXTRA_CA_CERTS, node 20 reads and parses that certificate bundle
 * before running any script (this machine's sandbox sets it: `node -e 0` takes ~65 ms with it, ~26 ms without), so
 * each round also times the command, and node's start, without it: `without_extra_ca`.
 */
function rollbackCommandTimes({ dir, ws, runs }) {
  const orc = new URL("../bin/orc.cjs", import.meta.url).pathname;
  const agent = join(dir, "agent.mjs");
  writeFileSync(
    agent,
    `import { writeFileSync } from "node:fs";\nconst n = Date.now();\nfor (let i = 0; i < 10; i++) writeFileSync("pkg" + String(i * 97).padStart(4, "0") + "/src/file0.ts", "export const changed = " + n + ";\\n");\n`,
  );
  writeFileSync(join(dir, "rollback.yaml"), `version: 1\nname: rollback\ntransport: local\nagent: { kind: command, run: node ${agent} }\ntasks:\n  - { id: t, prompt: change ten files, baseline: false }\n`);
  const orcEnv = { ...process.env, CI: "true", ORC_STATE_DIR: join(dir, "rollback-state") };
  const { NODE_EXTRA_CA_CERTS: extraCa, ...withoutExtraCa } = orcEnv;
  const command = (args, commandEnv = orcEnv) => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [orc, ...args], { cwd: dir, env: commandEnv, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`orc ${args.join(" ")} exited ${String(result.status)}: ${result.stderr}`);
    return { ms: Number(process.hrtime.bigint() - start) / 1e6, stdout: result.stdout };
  };
  const nodeStart = (commandEnv) => timeCommand(process.execPath, ["-e", "0"], { env: commandEnv });
  const applied = command(["apply", "rollback.yaml", "--workspace", ws]);
  const run = /^run (r-\S+):/.exec(applied.stdout)?.[1];
  if (run === undefined) throw new Error(`no run id in: ${applied.stdout}`);
  const times = { asIs: [], withoutExtraCa: [] };
  const kinds = extraCa === undefined ? [["asIs", orcEnv]] : [["asIs", orcEnv], ["withoutExtraCa", withoutExtraCa]];
  for (let i = 0; i <= runs; i++) {
    // The two kinds take turns going first, so that neither always follows the same command.
    for (const [kind, commandEnv] of i % 2 === 0 ? kinds : [...kinds].reverse()) {
      if (i > 0 || kind !== kinds[0][0]) command(["resume", run]); // the apply left the run to roll back first
      const status = gitStatus(ws);
      const node = nodeStart(commandEnv);
      const { ms } = command(["rollback", run, "--task", "t"], commandEnv);
      if (i > 0) times[kind].push({ status, ms, node }); // the first round is a warm-up
    }
  }
  return times;
}

export async function run({ runs = 7, dirs = 1000, perDir = 100 } = {}) {
  const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
  const [{ LocalWorkspace }, { LocalTransport }, { startLive }] = await Promise.all([
    dist("workspace/local.js"),
    dist("transports/local.js"),
    dist("workspace/change-sources.js"),
  ]);
  const dir = scratch("orc-bench-big-");
  const ws = join(dir, "ws");
  const state = join(dir, "state");
  mkdirSync(ws);
  generate(ws, dirs, perDir);
  const transport = new LocalTransport();
  const open = (stateDir) => LocalWorkspace.open({ dir: ws, stateDir, runId: "bench", transport, exclusive: true });
  // Each phase keeps the git status times taken alongside it: its ratio compares like with like.
  const phase = () => ({ status: [], subject: [] });
  const first = phase();
  const paths = phase();
  const around = phase();
  const settled = phase();
  const rollback = phase();
  const cold = phase();
  const changeSet = [];
  let rollbackCommand = { asIs: [], withoutExtraCa: [] };
  try {
    for (let i = 0; i < runs; i++) {
      first.status.push(gitStatus(ws));
      const fresh = join(dir, `first-${i}`);
      let workspace;
      first.subject.push(
        (
          await timed(async () => {
            workspace = await open(fresh);
            await workspace.checkpointBefore();
          })
        ).ms,
      );
      await workspace.close();
      rmSync(fresh, { recursive: true, force: true });
    }

    // The live subscription as LocalWorkspace runs it: the sync point after the attempt, then the list.
    const live = await startLive({ workspace: ws, ignore: [state], syncDir: join(dir, "sync") });
    for (let i = 0; i <= runs; i++) {
      const status = gitStatus(ws);
      attempt(ws, 1000 + i);
      const { ms, value } = await timed(() => live.take());
      if (value?.length !== 10) throw new Error(`the live list had ${JSON.stringify(value)}, not the 10 changed files`);
      if (i === 0) continue; // warm-up
      paths.status.push(status);
      paths.subject.push(ms);
    }
    await live.close();

    const workspace = await open(state);
    await workspace.checkpointBefore(); // the first checkpoint, measured above
    for (let i = 0; i <= runs; i++) {
      const status = gitStatus(ws);
      const before = await timed(() => workspace.checkpointBefore());
      attempt(ws, i);
      const after = await timed(() => workspace.changesSince(before.value, { task: "t", attempt: i + 1 }));
      if (after.value.files.length !== 10) throw new Error(`the change set had ${String(after.value.files.length)} files, not 10`);
      if (i === 0) continue; // warm-up
      around.status.push(status);
      around.subject.push(before.ms + after.ms);
      changeSet.push(after.ms);
    }
    const pause = () => new Promise((done) => setTimeout(done, 600));
    for (let i = 0; i <= runs; i++) {
      await pause(); // the gates of the attempt before
      const status = gitStatus(ws);
      const before = await timed(() => workspace.checkpointBefore());
      attempt(ws, 50 + i);
      await pause(); // the agent, after its last edit
      const after = await timed(() => workspace.changesSince(before.value, { task: "s", attempt: i + 1 }));
      if (after.value.files.length !== 10) throw new Error(`the change set had ${String(after.value.files.length)} files, not 10`);
      if (i === 0) continue; // warm-up
      settled.status.push(status);
      settled.subject.push(before.ms + after.ms);
    }
    for (let i = 0; i <= runs; i++) {
      const before = await workspace.checkpointBefore();
      attempt(ws, 100 + i);
      await workspace.changesSince(before, { task: "r", attempt: i + 1 });
      const status = gitStatus(ws);
      // Within the run (the subscription already knows what changed); the whole command is d_rollback_command.
      const restore = await timed(() => workspace.restore(before));
      if (i === 0) continue; // warm-up
      rollback.status.push(status);
      rollback.subject.push(restore.ms);
    }
    const base = await workspace.checkpointBefore();
    await workspace.close();

    // What a rollback command does without the run's subscription: open the store, record everything, restore.
    for (let i = 0; i < runs; i++) {
      cold.status.push(gitStatus(ws));
      attempt(ws, 2000 + i);
      cold.subject.push(
        (
          await timed(async () => {
            const again = await open(state);
            await again.restore(base);
            await again.close();
          })
        ).ms,
      );
    }

    // The whole `orc rollback RUN --task t` command: a real run whose command agent changes 10 files, rolled back;
    // `orc resume` runs the task again before each timing (not timed).
    rollbackCommand = rollbackCommandTimes({ dir, ws, runs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  /** The command's figure, with node's own start (`node -e 0`, in the same environment) as its own ratio. */
  const commandFigure = (times, target) => ({
    ...figure({ status: times.map((r) => r.status), subject: times.map((r) => r.ms) }, target),
    node_start_ms: round(median(times.map((r) => r.node))),
    node_start_ratio: round(median(times.map((r) => r.node)) / median(times.map((r) => r.status)), 2),
  });
  const figure = ({ status, subject }, target) => ({ ms: round(median(subject)), git_status_ms: round(median(status)), ratio: round(median(subject) / median(status), 2), ...(target === undefined ? {} : { target }) });
  return {
    name: "big-workspace",
    files: dirs * perDir,
    runs,
    a_paths_known: figure(paths, "<= 0.25x"),
    b_around_attempt: { ...figure(around, "<= 1x"), change_set_ms: round(median(changeSet)) },
    b_settled: figure(settled),
    c_first_checkpoint: figure(first, "<= 3x"),
    d_rollback: figure(rollback, "<= 1.5x"),
    d_rollback_new_process: figure(cold),
    d_rollback_command: commandFigure(rollbackCommand.asIs, "<= 1.5x"),
    ...(rollbackCommand.withoutExtraCa.length === 0 ? {} : { d_rollback_command_without_extra_ca: commandFigure(rollbackCommand.withoutExtraCa, "<= 1.5x") }),
  };
}
