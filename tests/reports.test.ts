import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseJunit } from "../src/quality/reports/junit.js";
import { TapCounter, parseTap } from "../src/quality/reports/tap.js";
import { supervise } from "../src/transports/supervisor.js";
import { NODE_TEST_COUNTS, NODE_TEST_FILE } from "./process-fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "orc-reports-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});


describe("parseJunit", () => {
  it("counts test cases across suites: failure and error fail, skipped skips", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="all" tests="6">
  <testsuite name="a" tests="3">
    <testcase name="one" classname="a"/>
    <testcase name="two" classname="a"><failure message="expected 1">stack</failure></testcase>
    <testcase name="three" classname="a"><skipped/></testcase>
  </testsuite>
  <testsuite name="b" tests="3">
    <testcase name="four"><error type="TypeError">boom</error></testcase>
    <testcase name="five"></testcase>
    <testcase name="six"><skipped message="later"></skipped></testcase>
  </testsuite>
</testsuites>`;
    expect(parseJunit(xml)).toEqual({ passed: 2, failed: 2, skipped: 2, total: 6 });
  });

  it("accepts a single testsuite root with a single testcase", () => {
    expect(parseJunit(`<testsuite name="solo"><testcase name="only"/></testsuite>`)).toEqual({
      passed: 1,
      failed: 0,
      skipped: 0,
      total: 1,
    });
  });

  it("counts cases in nested suites once", () => {
    const xml = `<testsuites>
  <testsuite name="outer">
    <testcase name="top"/>
    <testsuite name="inner">
      <testcase name="deep"><failure/></testcase>
      <testsuite name="innermost"><testcase name="deepest"><skipped/></testcase></testsuite>
    </testsuite>
  </testsuite>
</testsuites>`;
    expect(parseJunit(xml)).toEqual({ passed: 1, failed: 1, skipped: 1, total: 3 });
  });

  it("falls back to suite attributes when no test cases are listed", () => {
    const xml = `<testsuites><testsuite name="x" tests="10" failures="2" errors="1" skipped="3"/></testsuites>`;
    expect(parseJunit(xml)).toEqual({ passed: 4, failed: 3, skipped: 3, total: 10 });
  });

  it("reads an empty report as zero tests", () => {
    expect(parseJunit(`<testsuites/>`)).toEqual({ passed: 0, failed: 0, skipped: 0, total: 0 });
  });

  it("does not expand entities", () => {
    const xml = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuite name="&lol2;"><testcase name="&lol2;"/></testsuite>`;
    expect(parseJunit(xml)).toEqual({ passed: 1, failed: 0, skipped: 0, total: 1 });
  });

  it("returns undefined for text that is not a JUnit report", () => {
    expect(parseJunit("")).toBeUndefined();
    expect(parseJunit("not xml at all")).toBeUndefined();
    expect(parseJunit("<html><body/></html>")).toBeUndefined();
    // Truncated mid-write: the lenient parser would count half of it.
    expect(parseJunit(`<testsuite><testcase name="a"/><testcase name="b">`)).toBeUndefined();
  });
});

describe("parseTap", () => {
  it("counts a flat TAP 13 stream with SKIP and TODO directives", () => {
    const tap = `TAP version 13
1..5
ok 1 - first
not ok 2 - second
ok 3 - third # SKIP not on this platform
not ok 4 - fourth # TODO not written yet
ok 5 - fifth \\# not a directive
# a comment
`;
    expect(parseTap(tap)).toEqual({ passed: 2, failed: 1, skipped: 2, total: 5 });
  });

  it("counts the leaves of TAP 14 subtests, not their parents", () => {
    const tap = `TAP version 14
# Subtest: group
    # Subtest: nested
        ok 1 - a
        ok 2 - b
        1..2
    ok 1 - nested
    not ok 2 - c
    1..2
not ok 1 - group
ok 2 - lonely
1..2
`;
    expect(parseTap(tap)).toEqual({ passed: 3, failed: 1, skipped: 0, total: 4 });
  });

  it("counts a failing parent whose subtests all passed as one failure", () => {
    const tap = `    ok 1 - a
    1..1
not ok 1 - parent failed after its subtests
1..1
`;
    expect(parseTap(tap)).toEqual({ passed: 1, failed: 1, skipped: 0, total: 2 });
  });

  it("ignores test-point look-alikes inside YAML diagnostics", () => {
    const tap = `TAP version 13
not ok 1 - broken
  ---
  message: |-
    not ok 7 - quoted output
    ok 8 - more of it
  ...
ok 2 - fine
1..2
`;
    expect(parseTap(tap)).toEqual({ passed: 1, failed: 1, skipped: 0, total: 2 });
  });

  it("counts Bail out! as a failure", () => {
    expect(parseTap("TAP version 13\nok 1 - a\nBail out! database down\n")).toEqual({ passed: 1, failed: 1, skipped: 0, total: 2 });
  });

  it("reads a plan with no tests as zero tests, and non-TAP as undefined", () => {
    expect(parseTap("1..0 # SKIP nothing to do\n")).toEqual({ passed: 0, failed: 0, skipped: 0, total: 0 });
    expect(parseTap("")).toBeUndefined();
    expect(parseTap("Compiling...\nDone in 2s\n")).toBeUndefined();
  });

  it("gives the same counts when the stream arrives in arbitrary chunks", () => {
    const tap = "TAP version 13\r\nok 1 - a\r\n    ok 1 - x\r\n    not ok 2 - y\r\nnot ok 2 - b\r\nok 3 - c # skip\r\n1..3";
    const whole = parseTap(tap);
    const counter = new TapCounter();
    for (let i = 0; i < tap.length; i += 3) counter.push(tap.slice(i, i + 3));
    expect(counter.result()).toEqual(whole);
    expect(whole).toEqual({ passed: 2, failed: 1, skipped: 1, total: 4 });
  });

  it("parses real `node --test --test-reporter=tap` output", async () => {
    writeFileSync(path.join(dir, "sample.test.mjs"), NODE_TEST_FILE);
    const out = await supervise({
      command: process.execPath,
      args: ["--test", "--test-reporter=tap", "sample.test.mjs"],
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: 30_000,
      maxOutputBytes: 1024 * 1024,
    });
    expect(out.exitCode).toBe(1);
    expect(out.stdoutTail).toContain("# Subtest: deeper");
    expect(parseTap(out.stdoutTail)).toEqual(NODE_TEST_COUNTS);
  });
});
