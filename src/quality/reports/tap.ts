/**
 * Test Anything Protocol (13 and 14) counts.
 *
 * What is counted: LEAF test points only. A test point with subtests (an indented block above it, as Node's
 * `--test-reporter=tap` writes for `describe` suites and `t.test` children) is a summary of them and is not counted
 * again; its children are. This keeps one rule for every nesting depth, and matches what a user calls "a test" in
 * Node, where a single file puts its tests at the top level but suites nest them. One exception, so a failure never
 * disappears: a parent that is `not ok` although none of its leaves failed (a failing hook, a crash between subtests)
 * counts as one failed test itself.
 *
 * `ok` → passed, `not ok` → failed, a `# SKIP` or `# TODO` directive → skipped (a TODO test's failure is expected).
 * `Bail out!` counts as one failure. YAML diagnostic blocks (`---` … `...`) are skipped, so an error message that
 * happens to contain "not ok" is not a test point.
 */
import type { TestCounts } from "../../core/events.js";

const TEST_POINT = /^(\s*)(not ok|ok)\b(.*)$/;
const PLAN = /^\s*\d+\.\.\d+/;
const VERSION = /^\s*TAP version \d+/i;
const BAIL_OUT = /^\s*Bail out!/i;
const YAML_START = /^(\s*)---\s*$/;
// A directive follows an unescaped `#`: `# SKIP reason`, `# skipped`, `# TODO`.
const DIRECTIVE = /(?:^|[^\\])#\s*(skip|todo)/i;

interface Level {
  readonly indent: number;
  /** Counted test points at this indentation since its parent's block began. */
  tests: number;
  failed: number;
}

/** Counts test points as text arrives in chunks (a gate streams stdout through it, so no tail limit applies). */
export class TapCounter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;
  private sawTap = false;
  private partial = "";
  private yamlEnd: string | undefined;
  private lastWasTestPoint = false;
  /** Open indentation levels, outermost first; deeper levels close when the parent's test point arrives. */
  private readonly levels: Level[] = [];

  push(chunk: string): void {
    const lines = (this.partial + chunk).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  /** The counts so far (the unterminated last line included), or undefined when nothing looked like TAP. */
  result(): TestCounts | undefined {
    if (this.partial !== "") {
      this.line(this.partial);
      this.partial = "";
    }
    if (!this.sawTap) return undefined;
    const total = this.passed + this.failed + this.skipped;
    return { passed: this.passed, failed: this.failed, skipped: this.skipped, total };
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, "");
    if (this.yamlEnd !== undefined) {
      if (line.trimEnd() === this.yamlEnd) this.yamlEnd = undefined;
      return;
    }
    const yaml = YAML_START.exec(line);
    if (yaml && this.lastWasTestPoint) {
      this.yamlEnd = `${yaml[1] ?? ""}...`;
      this.lastWasTestPoint = false;
      return;
    }
    this.lastWasTestPoint = false;
    const point = TEST_POINT.exec(line);
    if (point) {
      this.sawTap = true;
      this.lastWasTestPoint = true;
      this.testPoint((point[1] ?? "").length, point[2] === "ok", point[3] ?? "");
      return;
    }
    if (VERSION.test(line) || PLAN.test(line)) this.sawTap = true;
    else if (BAIL_OUT.test(line)) {
      this.sawTap = true;
      this.failed++;
    }
  }

  private testPoint(indent: number, ok: boolean, rest: string): void {
    // Close every deeper level: those test points were this one's subtests.
    let childTests = 0;
    let childFailed = 0;
    for (let top = this.levels.at(-1); top !== undefined && top.indent > indent; top = this.levels.at(-1)) {
      childTests += top.tests;
      childFailed += top.failed;
      this.levels.pop();
    }
    let level = this.levels.at(-1);
    if (level?.indent !== indent) {
      level = { indent, tests: 0, failed: 0 };
      this.levels.push(level);
    }

    const directive = DIRECTIVE.exec(rest)?.[1]?.toLowerCase();
    if (childTests > 0) {
      // A parent: its leaves were counted already, unless it failed on its own.
      const ownFailure = !ok && directive === undefined && childFailed === 0 ? 1 : 0;
      this.failed += ownFailure;
      level.tests += childTests + ownFailure;
      level.failed += childFailed + ownFailure;
      return;
    }
    level.tests++;
    if (directive !== undefined) this.skipped++;
    else if (ok) this.passed++;
    else {
      this.failed++;
      level.failed++;
    }
  }
}

/** Counts of a whole TAP document, or undefined when the text holds no TAP at all. */
export function parseTap(text: string): TestCounts | undefined {
  const counter = new TapCounter();
  counter.push(text);
  return counter.result();
}
