// (a) `orc apply` of a generated 200-task no-op DAG with a command gate per task vs a bare Node loop spawning the same
// 400 processes (an agent and a gate per task). `transport: local`: the run loop's own cost, not the sandbox's (bench/sandbox.mjs).
import { rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { compare, scratch, timeCommand as timeCommandIn } from "./lib.mjs";

export function dagPipeline(tasks) {
  const lines = ["version: 1", "name: dag", "transport: local", 'agent: { kind: command, run: "true" }', 'gates: { check: { run: "true" } }', "defaults: { gates: [check] }", "tasks:"];
  for (let i = 0; i < tasks; i++) {
    // Each task needs up to two earlier ones: a DAG with real levels, not a chain or a flat list.
    const needs = i === 0 ? [] : [`t${Math.floor((i - 1) / 2)}`, ...(i > 2 ? [`t${i - 2}`] : [])];
    // baseline: false: the floor spawns an agent and a gate per task; a baseline would add a third process.
    lines.push(`  - id: t${i}`, `    prompt: no-op ${i}`, "    baseline: false", ...(needs.length > 0 ? [`    needs: [${[...new Set(needs)].join(", ")}]`] : []));
  }
  return `${lines.join("\n")}\n`;
}

export function run({ orc, runs = 5, tasks = 200 }) {
  const dir = scratch("orc-bench-dag-");
  const ws = join(dir, "ws");
  mkdirSync(ws);
  writeFileSync(join(dir, "dag.yaml"), dagPipeline(tasks));
  const bare = join(dir, "bare.mjs");
  writeFileSync(
    bare,
    `import { spawn } from "node:child_process";
for (let i = 0; i < ${tasks * 2}; i++) {
  await new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", "true"], { cwd: ${JSON.stringify(ws)}, stdio: ["pipe", "pipe", "pipe"], detached: true });
    child.stdin.on("error", () => {}); // \`true\` may exit before reading its input, as an agent may
    child.stdin.end("no-op " + i);
    child.stdout.resume(); child.stderr.resume();
    child.on("error", reject); child.on("close", resolve);
  });
}
`,
  );
  const env = { ...process.env, CI: "true", ORC_STATE_DIR: join(dir, "state") };
  const result = compare({
    runs,
    subject: {
      prepare: () => rmSync(join(dir, "state"), { recursive: true, force: true }),
      run: () => timeCommandIn(process.execPath, [orc, "apply", join(dir, "dag.yaml"), "--workspace", ws], { cwd: dir, env }),
    },
    floor: { run: () => timeCommandIn(process.execPath, [bare], { cwd: dir, env }) },
  });
  rmSync(dir, { recursive: true, force: true });
  return { name: "apply-200-task-dag", tasks, ...result, processes: tasks * 2, target: "<= 2.0x" };
}
