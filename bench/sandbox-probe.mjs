// What choosing the default transport costs `orc apply`: the bubblewrap probe (one sandboxed `true`, spawned
// synchronously, as cli/default-transport.ts does once per orc process) against its floor, a bare synchronous spawn of
// `true`. The series alternate, so drift hits them alike. Run `npm run build` first; prints one JSON line.
import { spawnSync } from "node:child_process";
import { probeBwrap } from "../dist/cli/default-transport.js";
import { interleave, round } from "./lib.mjs";

const RUNS = 200;
const WARMUP = 10;

export async function run() {
  const series = {
    probe: () => {
      if (!probeBwrap().ok) throw new Error("bubblewrap does not work here");
    },
    spawn_true: () => {
      if (spawnSync("true", [], { stdio: "ignore" }).status !== 0) throw new Error("true failed");
    },
  };
  const { median_ms: medians, p95_ms: p95 } = await interleave(series, { runs: RUNS, warmup: WARMUP });
  return { bench: "sandbox-probe", runs: RUNS, median_ms: medians, p95_ms: p95, ratio_spawn: round(medians.probe / medians.spawn_true, 2) };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run()));
