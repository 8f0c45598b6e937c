import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSummaryLines } from "../src/quality/reports/summary-lines.js";

const dir = mkdtempSync(path.join(tmpdir(), "orc-summary-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs real node --test on a file with one passing, one failing and one skipped test; the output, whatever the exit. */
function nodeTest(reporter: string): string {
  const file = path.join(dir, "a.test.mjs");
  writeFileSync(file, 'import { test } from "node:test";\nimport assert from "node:assert";\ntest("a", () => {});\ntest("b", () => { assert.equal(1, 2); });\ntest.skip("c", () => {});\n');
  try {
    return execFileSync(process.execPath, ["--test", `--test-reporter=${reporter}`, file], { encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const e = error as { stdout: string; stderr: string };
    return e.stdout + e.stderr;
  }
}

describe("test counts from runners' summary lines", () => {
  it.each(["tap", "spec"])("node --test (%s reporter, a real run)", (reporter) => {
    expect(parseSummaryLines(nodeTest(reporter))).toEqual({ passed: 1, failed: 1, skipped: 1, total: 3 });
  });

  it("vitest, colours included", () => {
    const out = "\n Test Files  1 failed | 2 passed (3)\n\u001b[2m      Tests \u001b[22m \u001b[1m\u001b[31m1 failed\u001b[39m\u001b[22m\u001b[2m | \u001b[22m\u001b[1m\u001b[32m5 passed\u001b[39m\u001b[22m\u001b[2m | \u001b[22m2 skipped\u001b[90m (8)\u001b[39m\n   Start at  10:00:00\n";
    expect(parseSummaryLines(out)).toEqual({ passed: 5, failed: 1, skipped: 2, total: 8 });
  });

  it("jest", () => {
    const out = "Test Suites: 1 failed, 1 passed, 2 total\nTests:       1 failed, 2 skipped, 3 passed, 6 total\nSnapshots:   0 total\nTime:        1.2 s\n";
    expect(parseSummaryLines(out)).toEqual({ passed: 3, failed: 1, skipped: 2, total: 6 });
  });

  it("mocha", () => {
    const out = "  calc\n    ✔ adds\n    1) divides\n\n\n  3 passing (12ms)\n  1 pending\n  1 failing\n\n  1) calc\n       divides:\n";
    expect(parseSummaryLines(out)).toEqual({ passed: 3, failed: 1, skipped: 1, total: 5 });
  });

  it("pytest, and pytest that collected nothing", () => {
    expect(parseSummaryLines("tests/test_calc.py .F.s\n=========== 1 failed, 2 passed, 1 skipped in 0.12s ===========\n")).toEqual({ passed: 2, failed: 1, skipped: 1, total: 4 });
    expect(parseSummaryLines("..F\n1 failed, 2 passed in 0.05s\n")).toEqual({ passed: 2, failed: 1, skipped: 0, total: 3 });
    expect(parseSummaryLines("============ no tests ran in 0.01s ============\n")).toEqual({ passed: 0, failed: 0, skipped: 0, total: 0 });
  });

  it("go test, verbose and not", () => {
    const verbose = "=== RUN   TestAdd\n--- PASS: TestAdd (0.00s)\n=== RUN   TestDiv\n--- FAIL: TestDiv (0.00s)\n--- SKIP: TestSlow (0.00s)\nFAIL\nFAIL\texample.com/calc\t0.002s\n";
    expect(parseSummaryLines(verbose)).toEqual({ passed: 1, failed: 1, skipped: 1, total: 3 });
    expect(parseSummaryLines("ok  \texample.com/calc\t0.002s\nok  \texample.com/util\t(cached)\n")).toEqual({ passed: 2, failed: 0, skipped: 0, total: 2 });
  });

  it("cargo test sums every test binary", () => {
    const out = "running 3 tests\ntest result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\nrunning 1 test\ntest result: ok. 0 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n";
    expect(parseSummaryLines(out)).toEqual({ passed: 2, failed: 1, skipped: 1, total: 4 });
  });

  it("an echo that only claims success counts nothing", () => {
    expect(parseSummaryLines("> calc@1.0.0 test\n> echo all tests passed\n\nall tests passed\n")).toBeUndefined();
  });
});
