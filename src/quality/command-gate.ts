/**
 * A command gate: a shell command run in the workspace, through the same transport as the agent. It passes only when
 * the command ran to completion with exit 0 and, if it writes a test report, the report counts no failures.
 * A report that is missing or unreadable does not change the verdict (the exit code decides); the summary says so.
 */
import { realpath, stat, readFile } from "node:fs/promises";
import path from "node:path";
import type { GateOutcome, TestCounts } from "../core/events.js";
import { formatDuration } from "../core/duration.js";
import type { CommandGateSpec } from "../core/pipeline.js";
import type { Gate, GateContext } from "./port.js";
import { parseSummaryLines } from "./reports/summary-lines.js";
import { TapCounter, parseTap } from "./reports/tap.js";

/** A command gate needs only the workspace, transport, environment and signal of the gate port's context. */
export type CommandGateContext = Pick<GateContext, "workspace" | "transport" | "env" | "signal">;

/** Evidence kept from the gate's output: enough to see the failure, small enough for the ledger. */
export const GATE_TAIL_BYTES = 8 * 1024;
/** Larger report files are refused rather than read into memory. */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;
/** Filesystem timestamps can be coarse: a report this much older than the gate's start still counts as fresh. */
const MTIME_SLACK_MS = 1000;

/** A configured limit the way a user writes it: `500ms`, `10s`, `1m30s`; fractions fall back to `1.5s`. */
function formatLimit(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return formatDuration(ms);
  const s = ms / 1000;
  const parts = [[Math.floor(s / 3600), "h"], [Math.floor((s % 3600) / 60), "m"], [s % 60, "s"]] as const;
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join("");
}

interface ReportResult {
  readonly tests?: TestCounts;
  /** Why there are no counts, for the summary. */
  readonly note?: string;
}

/** Resolves a report path inside the workspace, or explains why it may not be read. */
async function reportFile(workspace: string, file: string): Promise<{ abs: string } | { note: string }> {
  const abs = path.resolve(workspace, file);
  const inside = (root: string, p: string): boolean => {
    const rel = path.relative(root, p);
    return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
  };
  if (!inside(workspace, abs)) return { note: `report path ${file} is outside the workspace, not read` };
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    return { note: `no report at ${file}` };
  }
  // A symlink inside the workspace must not lead the gate to read files elsewhere.
  if (!inside(await realpath(workspace), real)) return { note: `report ${file} links outside the workspace, not read` };
  return { abs: real };
}

async function readReport(
  report: NonNullable<CommandGateSpec["report"]>,
  workspace: string,
  startedAt: number,
  stdoutTap: TapCounter,
): Promise<ReportResult> {
  if (report.path === undefined) {
    // Only TAP can come on stdout (config requires a path for junit); it was counted as it streamed.
    if (report.format !== "tap") return { note: `a ${report.format} report needs a path` };
    const tests = stdoutTap.result();
    return tests === undefined ? { note: "no TAP output on stdout" } : { tests };
  }
  const where = await reportFile(workspace, report.path);
  if ("note" in where) return where;
  try {
    const info = await stat(where.abs);
    if (!info.isFile()) return { note: `report ${report.path} is not a file` };
    if (info.size > MAX_REPORT_BYTES) return { note: `report ${report.path} is too large (${info.size} bytes), not read` };
    // A report left over from an earlier run would report someone else's tests.
    if (info.mtimeMs < startedAt - MTIME_SLACK_MS) return { note: `report ${report.path} is stale (not written by this run)` };
    const text = await readFile(where.abs, "utf8");
    // fast-xml-parser costs ~30 ms to load: only runs whose gates write JUnit pay for it.
    const tests = report.format === "junit" ? (await import("./reports/junit.js")).parseJunit(text) : parseTap(text);
    return tests === undefined ? { note: `report ${report.path} is not valid ${report.format}` } : { tests };
  } catch (err) {
    return { note: `report ${report.path} could not be read: ${(err as Error).message}` };
  }
}

export async function runCommandGate(spec: CommandGateSpec, ctx: CommandGateContext): Promise<GateOutcome> {
  const startedAt = Date.now();
  const stdoutTap = new TapCounter();
  const tapOnStdout = spec.report?.format === "tap" && spec.report.path === undefined;
  const outcome = await ctx.transport.run({
    command: spec.run,
    shell: true,
    cwd: ctx.workspace,
    env: ctx.env,
    timeoutMs: spec.timeoutMs,
    maxOutputBytes: GATE_TAIL_BYTES,
    signal: ctx.signal,
    // Counted as it streams, so a long TAP stream is counted in full although only its tail is kept.
    ...(tapOnStdout ? { onStdout: (chunk: string) => { stdoutTap.push(chunk); } } : {}),
  });

  // A run that did not finish on its own says nothing reliable about its report.
  const finished = outcome.end === "exited";
  const report = spec.report !== undefined && finished ? await readReport(spec.report, ctx.workspace, startedAt, stdoutTap) : {};
  const reportFailed = report.tests !== undefined && report.tests.failed > 0;
  // Without a report, the runner's own summary lines say how many tests ran (evidence for baselines and rules; the
  // exit code alone decides the gate).
  const tests = report.tests ?? (finished ? parseSummaryLines(outcome.outputTail) : undefined);
  const passed = finished && outcome.exitCode === 0 && !reportFailed;

  const took = formatDuration(outcome.durationMs);
  let head: string;
  switch (outcome.end) {
    case "spawn-error":
      head = `could not start: ${outcome.error ?? "unknown error"}`;
      break;
    case "timeout":
      head = `timed out after ${formatLimit(spec.timeoutMs)}`;
      break;
    case "stalled":
      head = `stalled (no output) after ${took}`;
      break;
    case "cancelled":
      head = `cancelled after ${took}`;
      break;
    case "transport-lost":
      head = `lost its transport after ${took}: ${outcome.error ?? "the connection or container went away"}`;
      break;
    case "exited":
      if (outcome.signal !== null) head = `killed by ${outcome.signal} after ${took}`;
      else if (passed) head = `passed in ${took}`;
      else if (outcome.exitCode === 0) head = `exit 0 after ${took} but the report counts failures`;
      else head = `exit ${outcome.exitCode ?? "?"} after ${took}`;
      break;
  }
  const counts = tests === undefined ? "" : `: ${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped`;
  const note = report.note === undefined ? "" : `; ${report.note}`;

  return {
    gate: spec.id,
    kind: "command",
    passed,
    exitCode: outcome.exitCode,
    end: outcome.end,
    durationMs: outcome.durationMs,
    outputTail: outcome.outputTail,
    ...(tests === undefined ? {} : { tests }),
    summary: `${head}${counts}${note}`.replace(/[\r\n]+/g, " "),
  };
}

/** The `command` kind, for the gate registry. */
export const commandGate: Gate<"command"> = { run: runCommandGate };
