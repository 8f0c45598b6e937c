// Shared helpers for the benchmarks: timing whole commands and taking medians of repeated runs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A scratch directory on tmpfs when there is one: disk speed here drifts 6-10x within an hour. */
export function scratch(prefix) {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return mkdtempSync(join(base, prefix));
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Wall time of one command in ms; throws if it fails, so a broken benchmark never reports a number. */
export function timeCommand(command, args, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return ms;
}

/** Alternates the two commands run by run (so drift hits both alike) and returns both medians and their ratio. */
export function compare({ runs, warmup = 1, subject, floor }) {
  for (let i = 0; i < warmup; i++) {
    subject.prepare?.();
    subject.run();
    floor.prepare?.();
    floor.run();
  }
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    subject.prepare?.();
    a.push(subject.run());
    floor.prepare?.();
    b.push(floor.run());
  }
  const subjectMs = median(a);
  const floorMs = median(b);
  return { subject_ms: round(subjectMs), floor_ms: round(floorMs), ratio: round(subjectMs / floorMs, 2), runs };
}

export function round(value, digits = 1) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Runs every series once per round, in turn (so drift hits them alike): `warmup` rounds not recorded, then `runs`.
 * Medians and 95th percentiles in ms, two decimals, by series name. A series may be sync or async.
 */
export async function interleave(series, { runs, warmup, rotate = false }) {
  const times = Object.fromEntries(Object.keys(series).map((name) => [name, []]));
  const entries = Object.entries(series);
  for (let i = 0; i < warmup + runs; i++) {
    // rotate: round i starts at series i mod n, so each series follows each other one equally often (what runs just
    // before a command can cost it: a local spawn's aftermath slows the next command by ~0.2 ms in the ssh bench).
    const shift = rotate ? i % entries.length : 0;
    for (const [name, fn] of [...entries.slice(shift), ...entries.slice(0, shift)]) {
      const start = process.hrtime.bigint();
      await fn();
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (i >= warmup) times[name].push(ms);
    }
  }
  const each = (stat) => Object.fromEntries(Object.entries(times).map(([name, v]) => [name, round(stat(v), 2)]));
  return { median_ms: each(median), p95_ms: each((v) => percentile(v, 95)) };
}
