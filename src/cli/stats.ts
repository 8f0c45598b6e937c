/**
 * `orc stats [--json]`: what the state DB says about how supervision went, across every run. Calibration asks whether
 * the judge's confidence meant anything: of the attempts a judge passed, how many a later gate, a rule, a human or a
 * rollback still turned down, per confidence band.
 */
import type { StatsRows } from "../state/port.js";
import { withReadonlyStore, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import type { Io } from "./io.js";

const BANDS = [
  { band: "[0, 0.5)", low: 0, high: 0.5 },
  { band: "[0.5, 0.7)", low: 0.5, high: 0.7 },
  { band: "[0.7, 0.9)", low: 0.7, high: 0.9 },
  { band: "[0.9, 1]", low: 0.9, high: Infinity },
] as const;

export interface Stats {
  readonly runs: number;
  readonly tasks: { readonly total: number; readonly accepted: number; readonly failed: number; readonly skipped: number; readonly unfinished: number; readonly completionRate: number | null };
  readonly attemptsPerTask: { readonly mean: number | null; readonly p50: number | null; readonly max: number | null };
  readonly breakpointsByRule: readonly { readonly rule: string; readonly count: number }[];
  /** Per run, oldest first: the mean confidence of its judge verdicts. */
  readonly confidenceOverTime: readonly { readonly run: string; readonly createdAt: string; readonly verdicts: number; readonly meanConfidence: number }[];
  /** Judge-passed attempts per confidence band, and how many were turned down after all. */
  readonly calibration: readonly { readonly band: string; readonly accepted: number; readonly laterRejected: number; readonly rejectedRate: number | null }[];
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

export function computeStats(rows: StatsRows): Stats {
  const count = (status: string): number => rows.tasks.filter((t) => t.status === status).length;
  const accepted = count("accepted");
  const failed = count("failed");
  const skipped = count("skipped");
  const tried = rows.tasks.map((t) => t.attempts).filter((n) => n > 0).sort((a, b) => a - b);

  const perRun = new Map<string, { createdAt: string; sum: number; n: number }>();
  for (const j of rows.judged) {
    const r = perRun.get(j.run) ?? { createdAt: j.runCreatedAt, sum: 0, n: 0 };
    perRun.set(j.run, { ...r, sum: r.sum + j.confidence, n: r.n + 1 });
  }
  // A pass the judge gave is "later rejected" when the attempt was not accepted after all (a gate after the judge, a
  // rule), a human answered its breakpoint with reject or retry, or `orc rollback` undid it.
  const passes = rows.judged.filter((j) => j.passed && j.decision !== null);
  const rejected = (j: (typeof passes)[number]): boolean =>
    j.decision !== "accept" && j.decision !== "pause" ? true : j.rolledBack || j.resolution === "reject" || j.resolution === "retry";

  return {
    runs: rows.runs,
    tasks: {
      total: rows.tasks.length,
      accepted,
      failed,
      skipped,
      unfinished: rows.tasks.length - accepted - failed - skipped,
      completionRate: accepted + failed === 0 ? null : round(accepted / (accepted + failed)),
    },
    attemptsPerTask: {
      mean: tried.length === 0 ? null : round(tried.reduce((n, a) => n + a, 0) / tried.length),
      p50: tried.length === 0 ? null : (tried[Math.floor((tried.length - 1) / 2)] ?? null),
      max: tried.at(-1) ?? null,
    },
    breakpointsByRule: rows.breakpoints,
    confidenceOverTime: [...perRun].map(([run, r]) => ({ run, createdAt: r.createdAt, verdicts: r.n, meanConfidence: round(r.sum / r.n) })),
    calibration: BANDS.map(({ band, low, high }) => {
      const inBand = passes.filter((j) => j.confidence >= low && j.confidence < high);
      const later = inBand.filter(rejected).length;
      return { band, accepted: inBand.length, laterRejected: later, rejectedRate: inBand.length === 0 ? null : round(later / inBand.length) };
    }),
  };
}

const pct = (rate: number | null): string => (rate === null ? "-" : `${(rate * 100).toFixed(0)}%`);
const num = (n: number | null): string => (n === null ? "-" : String(n));

export function renderStats(s: Stats): string {
  const t = s.tasks;
  const lines = [
    `runs ${String(s.runs)}, tasks ${String(t.total)}: ${String(t.accepted)} accepted, ${String(t.failed)} failed, ${String(t.skipped)} skipped, ${String(t.unfinished)} unfinished`,
    `completion rate   ${pct(t.completionRate)} (accepted of accepted + failed)`,
    `attempts per task mean ${num(s.attemptsPerTask.mean)}, p50 ${num(s.attemptsPerTask.p50)}, max ${num(s.attemptsPerTask.max)}`,
    "breakpoints by rule:",
    ...(s.breakpointsByRule.length === 0 ? ["  (none)"] : s.breakpointsByRule.map((b) => `  ${b.rule.padEnd(28)} ${String(b.count)}`)),
    "judge confidence by run:",
    ...(s.confidenceOverTime.length === 0 ? ["  (no judge verdicts)"] : s.confidenceOverTime.map((r) => `  ${r.createdAt}  ${r.run}  ${r.meanConfidence.toFixed(2)} over ${String(r.verdicts)} verdicts`)),
    "calibration (judge passes later turned down, by confidence):",
    ...s.calibration.map((c) => `  ${c.band.padEnd(11)} ${String(c.laterRejected)}/${String(c.accepted)} (${pct(c.rejectedRate)})`),
  ];
  return lines.join("\n");
}

export function statsCommand(options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  return withReadonlyStore(io, options, (store) => {
    const stats = computeStats(store?.stats?.() ?? { runs: 0, tasks: [], breakpoints: [], judged: [] });
    io.stdout.write(options.json ? `${JSON.stringify(stats)}\n` : `${renderStats(stats)}\n`);
    return EXIT.ok;
  });
}
