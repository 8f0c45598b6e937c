// (c) `orc validate` of a 1,000-task pipeline, in ms (whole command, process start included).
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dagPipeline } from "./apply-dag.mjs";
import { median, round, scratch, timeCommand } from "./lib.mjs";

export function run({ orc, runs = 7 }) {
  const dir = scratch("orc-bench-validate-");
  const file = join(dir, "big.yaml");
  writeFileSync(file, dagPipeline(1000));
  timeCommand(process.execPath, [orc, "validate", file], { cwd: dir });
  const times = Array.from({ length: runs }, () => timeCommand(process.execPath, [orc, "validate", file], { cwd: dir }));
  const node = median(Array.from({ length: runs }, () => timeCommand(process.execPath, ["-e", "0"])));
  rmSync(dir, { recursive: true, force: true });
  return { name: "validate-1000-tasks", ms: round(median(times)), node_floor_ms: round(node), runs, target: "<= 400 ms" };
}
