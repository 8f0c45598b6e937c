/**
 * Test counts from the summary lines common runners print at the end of a run, for gates that write no report: a
 * baseline needs to know how many tests ran, and `echo all tests passed` must count as zero.
 *
 * Each runner's summary is recognised by its own shape; the LAST match in the output wins, because a runner that
 * runs several projects (or a watch rerun) prints one summary per pass and the final one is the run's. Go prints no
 * totals: `--- PASS`/`--- FAIL`/`--- SKIP` lines (with -v) are counted, and without them each `ok`/`FAIL` package
 * line counts as one test, so a package whose tests all disappear still reads as fewer tests.
 * Counts are evidence: a gate's pass/fail stays with its exit code (and a report, when it has one).
 */
import type { TestCounts } from "../../core/events.js";

type Parser = (text: string) => TestCounts | undefined;

/** The last match of `re` (global) in `text`. */
function lastMatch(text: string, re: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(re)) last = m;
  return last;
}

function counts(passed: number, failed: number, skipped: number): TestCounts {
  return { passed, failed, skipped, total: passed + failed + skipped };
}

/** `N word` pairs in one summary line: `3 passed, 1 failed, 2 skipped`. */
function pairs(line: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const m of line.matchAll(/(\d+)\s+([a-z]+)/gi)) found.set((m[2] ?? "").toLowerCase(), Number(m[1]));
  return found;
}

/** node --test: `# tests 4` … `# pass 3` / `# fail 1` (TAP reporter), `ℹ tests 4` … (spec reporter). */
const nodeTest: Parser = (text) => {
  const block = lastMatch(text, /^[#ℹ] tests (\d+)\s*$[\s\S]*?^[#ℹ] fail (\d+)\s*$/gm);
  if (block === undefined) return undefined;
  const from = block.index;
  const tail = text.slice(from, from + block[0].length + 200);
  const num = (name: string): number => Number(new RegExp(`^[#ℹ] ${name} (\\d+)\\s*$`, "m").exec(tail)?.[1] ?? 0);
  return counts(num("pass"), num("fail") + num("cancelled"), num("skipped") + num("todo"));
};

/** vitest: ` Tests  3 passed | 1 failed | 2 skipped (6)`. */
const vitest: Parser = (text) => {
  const m = lastMatch(text, /^\s*Tests\s+((?:\d+ [a-z]+(?: \| )?)+)\s*\((\d+)\)\s*$/gm);
  if (m === undefined) return undefined;
  const p = pairs(m[1] ?? "");
  return counts(p.get("passed") ?? 0, p.get("failed") ?? 0, (p.get("skipped") ?? 0) + (p.get("todo") ?? 0));
};

/** jest: `Tests:       1 failed, 2 skipped, 3 passed, 6 total`. */
const jest: Parser = (text) => {
  const m = lastMatch(text, /^Tests:\s+(.*\d+ total)\s*$/gm);
  if (m === undefined) return undefined;
  const p = pairs(m[1] ?? "");
  return counts(p.get("passed") ?? 0, p.get("failed") ?? 0, (p.get("skipped") ?? 0) + (p.get("todo") ?? 0));
};

/** mocha: `  3 passing (12ms)`, `  2 pending`, `  1 failing`. */
const mocha: Parser = (text) => {
  const m = lastMatch(text, /^\s*(\d+) passing \(\d+(?:\.\d+)?\s*m?s\)\s*$/gm);
  if (m === undefined) return undefined;
  const after = text.slice(m.index);
  const pending = Number(/^\s*(\d+) pending\s*$/m.exec(after)?.[1] ?? 0);
  const failing = Number(/^\s*(\d+) failing\s*$/m.exec(after)?.[1] ?? 0);
  return counts(Number(m[1]), failing, pending);
};

/** pytest: `==== 1 failed, 3 passed, 1 skipped in 0.12s ====`, without the rules under -q (also `no tests ran in`). */
const pytest: Parser = (text) => {
  const m = lastMatch(text, /^(?:=+ )?(\d+ [a-z]+(?:, \d+ [a-z]+)*|no tests ran) in \d+(?:\.\d+)?s(?: \([^)]*\))?(?: =+)?\s*$/gm);
  if (m === undefined) return undefined;
  const line = m[1] ?? "";
  if (line.startsWith("no tests ran")) return counts(0, 0, 0);
  const p = pairs(line);
  if (![...p.keys()].some((k) => ["passed", "failed", "skipped", "error", "errors", "xfailed", "xpassed", "deselected"].includes(k))) return undefined;
  return counts((p.get("passed") ?? 0) + (p.get("xpassed") ?? 0), (p.get("failed") ?? 0) + (p.get("error") ?? 0) + (p.get("errors") ?? 0), (p.get("skipped") ?? 0) + (p.get("xfailed") ?? 0));
};

/** cargo test: `test result: ok. 3 passed; 1 failed; 2 ignored; …`, one line per test binary, summed. */
const cargo: Parser = (text) => {
  const lines = [...text.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored;/gm)];
  if (lines.length === 0) return undefined;
  const sum = (i: number): number => lines.reduce((n, m) => n + Number(m[i]), 0);
  return counts(sum(1), sum(2), sum(3));
};

/** go test: `--- PASS: TestX` lines with -v; otherwise one per `ok`/`FAIL` package line. */
const goTest: Parser = (text) => {
  const verbose = [...text.matchAll(/^\s*--- (PASS|FAIL|SKIP): \S+/gm)].map((m) => m[1]);
  if (verbose.length > 0) return counts(verbose.filter((s) => s === "PASS").length, verbose.filter((s) => s === "FAIL").length, verbose.filter((s) => s === "SKIP").length);
  const packages = [...text.matchAll(/^(ok|FAIL)\s+\S+\s+(?:\d+(?:\.\d+)?s|\(cached\))/gm)].map((m) => m[1]);
  if (packages.length === 0) return undefined;
  return counts(packages.filter((s) => s === "ok").length, packages.filter((s) => s === "FAIL").length, 0);
};

/** In order of how specific each shape is: a TAP `# tests` block would never be mistaken for a pytest banner. */
const PARSERS: readonly Parser[] = [nodeTest, vitest, jest, mocha, pytest, cargo, goTest];

/** The counts the first runner whose summary appears in `output` reports, or undefined when none does. */
export function parseSummaryLines(output: string): TestCounts | undefined {
  // Colours would split the words the patterns look for.
  // eslint-disable-next-line no-control-regex
  const text = output.replace(/\u001b\[[0-9;]*m/g, "").replace(/\r/g, "");
  for (const parse of PARSERS) {
    const found = parse(text);
    if (found !== undefined) return found;
  }
  return undefined;
}
