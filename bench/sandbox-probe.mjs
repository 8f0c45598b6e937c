// What choosing the default transport costs `orc apply`: the bubblewrap probe (one sandboxed `true`, spawned
// synchronously, as cli/default-transport.ts does once per orc process) against its floor, a bare synchronous spawn of
// `true`. The series alternate, so drift hits them alike. Run `npm run build` first; prints one JSON line.
import { spawnSync } from "node:child_process";
import { probeBwrap } from "../dist/cli/default-transport.js";
import { median, percentile } from "./lib.mjs";

const RUNS = 200;
const WARMUP = 10;

function timed(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function run() {
  const series = {
    probe: () => {
      if (!probeBwrap().ok) throw new Error("bubblewrap does not work here");
    },
    spawn_true: () => {
      if (spawnSync("true", [], { stdio: "ignore" }).status !== 0) throw new Error("true failed");
    },
  };
  const times = { probe: [], spawn_true: [] };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [name, fn] of Object.entries(series)) {
      const ms = timed(fn);
      if (i >= WARMUP) times[name].push(ms);
    }
  }
  const round = (n) => Math.round(n * 100) / 100;
  const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(median(v))]));
  const p95 = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(percentile(v, 95))]));
  return { bench: "sandbox-probe", runs: RUNS, median_ms: medians, p95_ms: p95, ratio_spawn: round(medians.probe / medians.spawn_true) };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run()));
