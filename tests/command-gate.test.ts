import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { CommandGateSpec } from "../src/core/pipeline.js";
import { runCommandGate, type CommandGateContext } from "../src/quality/command-gate.js";
import { LocalTransport } from "../src/transports/local.js";
import { NODE_TEST_COUNTS, NODE_TEST_FILE } from "./process-fixtures.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "orc-gate-")));
let workspace = "";
let n = 0;
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  workspace = path.join(root, `ws${++n}`);
  mkdirSync(path.join(workspace, "fixtures"), { recursive: true });
});

function ctx(signal: AbortSignal = new AbortController().signal): CommandGateContext {
  return { workspace, transport: new LocalTransport(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, signal };
}

function gate(run: string, over: Partial<CommandGateSpec> = {}): CommandGateSpec {
  return { kind: "command", id: "tests", run, timeoutMs: 30_000, ...over };
}

/** A fixture in the workspace; the gate command copies it into place, so the report is written by the run itself. */
function fixture(name: string, text: string): string {
  writeFileSync(path.join(workspace, "fixtures", name), text);
  return `fixtures/${name}`;
}

const JUNIT_PASS = `<testsuites><testsuite name="s"><testcase name="a"/><testcase name="b"/><testcase name="c"><skipped/></testcase></testsuite></testsuites>`;
const JUNIT_FAIL = `<testsuite name="s"><testcase name="a"/><testcase name="b"><failure message="nope"/></testcase><testcase name="c"/><testcase name="d"/></testsuite>`;

describe("command gate", () => {
  it("passes on exit 0", async () => {
    const out = await runCommandGate(gate("echo all good"), ctx());
    expect(out).toMatchObject({ gate: "tests", kind: "command", passed: true, exitCode: 0, end: "exited" });
    expect(out.summary).toMatch(/^passed in \d+ms$/);
    expect(out.outputTail).toBe("all good\n");
    expect(out.tests).toBeUndefined();
  });

  it("fails on a non-zero exit and keeps the output tail as evidence", async () => {
    const out = await runCommandGate(gate("echo compiling; echo 'error: boom' >&2; exit 1"), ctx());
    expect(out).toMatchObject({ passed: false, exitCode: 1, end: "exited" });
    expect(out.summary).toMatch(/^exit 1 after \d+ms$/);
    expect(out.outputTail).toContain("error: boom");
  });

  it("keeps a bounded tail: the end of a long output", async () => {
    const out = await runCommandGate(gate("seq 1 100000; exit 2"), ctx());
    expect(Buffer.byteLength(out.outputTail)).toBeLessThanOrEqual(8 * 1024);
    expect(out.outputTail.endsWith("99999\n100000\n")).toBe(true);
  });

  it("fails with end timeout when the command runs too long", async () => {
    const out = await runCommandGate(gate("sleep 100", { timeoutMs: 1000 }), ctx());
    expect(out).toMatchObject({ passed: false, end: "timeout", exitCode: null, summary: "timed out after 1s" });
    expect(out.durationMs).toBeLessThan(2500);
  });

  it("fails when cancelled, and when killed by a signal", async () => {
    const controller = new AbortController();
    setTimeout(() => { controller.abort(); }, 200);
    const cancelled = await runCommandGate(gate("sleep 100"), ctx(controller.signal));
    expect(cancelled).toMatchObject({ passed: false, end: "cancelled" });
    expect(cancelled.summary).toMatch(/^cancelled after /);

    const killed = await runCommandGate(gate("kill -9 $$"), ctx());
    expect(killed).toMatchObject({ passed: false, end: "exited", exitCode: null });
    expect(killed.summary).toMatch(/^killed by SIGKILL after /);
  });

  it("fails, in words, when the command cannot start", async () => {
    const out = await runCommandGate(gate("true"), { ...ctx(), workspace: path.join(root, "missing") });
    expect(out).toMatchObject({ passed: false, end: "spawn-error" });
    expect(out.summary).toBe(`could not start: working directory does not exist: ${path.join(root, "missing")}`);
  });

  describe("junit reports", () => {
    const report = { format: "junit", path: "reports/junit.xml" } as const;

    it("adds the counts to a passing gate", async () => {
      const src = fixture("pass.xml", JUNIT_PASS);
      const out = await runCommandGate(gate(`mkdir -p reports && cp ${src} reports/junit.xml`, { report }), ctx());
      expect(out.passed).toBe(true);
      expect(out.tests).toEqual({ passed: 2, failed: 0, skipped: 1, total: 3 });
      expect(out.summary).toMatch(/^passed in \d+ms: 2 passed, 0 failed, 1 skipped$/);
    });

    it("fails the gate when the report has failures, even on exit 0", async () => {
      const src = fixture("fail.xml", JUNIT_FAIL);
      const out = await runCommandGate(gate(`mkdir -p reports && cp ${src} reports/junit.xml`, { report }), ctx());
      expect(out).toMatchObject({ passed: false, exitCode: 0, tests: { passed: 3, failed: 1, skipped: 0, total: 4 } });
      expect(out.summary).toMatch(/^exit 0 after \d+ms but the report counts failures: 3 passed, 1 failed, 0 skipped$/);
    });

    it("reports counts with a failing exit", async () => {
      const src = fixture("fail.xml", JUNIT_FAIL);
      const out = await runCommandGate(gate(`mkdir -p reports && cp ${src} reports/junit.xml; exit 1`, { report }), ctx());
      expect(out.passed).toBe(false);
      expect(out.summary).toMatch(/^exit 1 after \d+ms: 3 passed, 1 failed, 0 skipped$/);
    });

    it("notes a missing report and follows the exit code", async () => {
      const out = await runCommandGate(gate("true", { report }), ctx());
      expect(out.passed).toBe(true);
      expect(out.tests).toBeUndefined();
      expect(out.summary).toMatch(/^passed in \d+ms; no report at reports\/junit\.xml$/);
    });

    it("notes a report that does not parse", async () => {
      const out = await runCommandGate(gate("mkdir -p reports && echo '<testsuite><testcase>' > reports/junit.xml; exit 1", { report }), ctx());
      expect(out.passed).toBe(false);
      expect(out.summary).toMatch(/^exit 1 after \d+ms; report reports\/junit\.xml is not valid junit$/);
    });

    it("ignores a report left over from an earlier run", async () => {
      mkdirSync(path.join(workspace, "reports"));
      writeFileSync(path.join(workspace, "reports/junit.xml"), JUNIT_FAIL);
      const old = new Date(Date.now() - 3600_000);
      utimesSync(path.join(workspace, "reports/junit.xml"), old, old);
      const out = await runCommandGate(gate("true", { report }), ctx());
      expect(out.passed).toBe(true);
      expect(out.tests).toBeUndefined();
      expect(out.summary).toContain("report reports/junit.xml is stale (not written by this run)");
    });

    it("refuses report paths outside the workspace, through .. or a symlink", async () => {
      writeFileSync(path.join(root, "outside.xml"), JUNIT_FAIL);
      const up = await runCommandGate(gate("touch ../outside.xml", { report: { format: "junit", path: "../outside.xml" } }), ctx());
      expect(up.passed).toBe(true);
      expect(up.summary).toContain("report path ../outside.xml is outside the workspace, not read");

      const absolute = await runCommandGate(gate("true", { report: { format: "junit", path: path.join(root, "outside.xml") } }), ctx());
      expect(absolute.summary).toContain("is outside the workspace, not read");

      symlinkSync(path.join(root, "outside.xml"), path.join(workspace, "link.xml"));
      const linked = await runCommandGate(gate("touch ../outside.xml", { report: { format: "junit", path: "link.xml" } }), ctx());
      expect(linked.passed).toBe(true);
      expect(linked.tests).toBeUndefined();
      expect(linked.summary).toContain("report link.xml links outside the workspace, not read");
    });
  });

  describe("tap reports", () => {
    it("counts TAP on stdout", async () => {
      const out = await runCommandGate(gate("printf 'TAP version 13\\nok 1 - a\\nnot ok 2 - b\\nok 3 - c # SKIP\\n1..3\\n'; exit 1", { report: { format: "tap" } }), ctx());
      expect(out.tests).toEqual({ passed: 1, failed: 1, skipped: 1, total: 3 });
      expect(out.summary).toMatch(/^exit 1 after \d+ms: 1 passed, 1 failed, 1 skipped$/);
    });

    it("counts all of a TAP stream longer than the kept tail", async () => {
      const script = "let s = 'TAP version 13\\n'; for (let i = 1; i <= 3000; i++) s += 'ok ' + i + ' - test number ' + i + '\\n'; console.log(s + '1..3000');";
      const out = await runCommandGate(gate(`node -e "${script}"`, { report: { format: "tap" } }), ctx());
      expect(Buffer.byteLength(out.outputTail)).toBeLessThanOrEqual(8 * 1024);
      expect(out.tests).toEqual({ passed: 3000, failed: 0, skipped: 0, total: 3000 });
      expect(out.passed).toBe(true);
    });

    it("notes stdout without TAP", async () => {
      const out = await runCommandGate(gate("echo hello", { report: { format: "tap" } }), ctx());
      expect(out.passed).toBe(true);
      expect(out.summary).toMatch(/; no TAP output on stdout$/);
    });

    it("counts real `node --test --test-reporter=tap` output on stdout", async () => {
      writeFileSync(path.join(workspace, "sample.test.mjs"), NODE_TEST_FILE);
      const out = await runCommandGate(gate("node --test --test-reporter=tap sample.test.mjs", { report: { format: "tap" } }), ctx());
      expect(out).toMatchObject({ passed: false, exitCode: 1, tests: NODE_TEST_COUNTS });
      expect(out.summary).toMatch(/^exit 1 after [\d.]+m?s: 5 passed, 3 failed, 2 skipped$/);
    });

    it("counts a TAP file written by node --test, and fails on its failures", async () => {
      writeFileSync(path.join(workspace, "sample.test.mjs"), NODE_TEST_FILE);
      const run = "node --test --test-reporter=tap --test-reporter-destination=out/report.tap sample.test.mjs";
      const out = await runCommandGate(gate(`mkdir -p out && ${run}`, { report: { format: "tap", path: "out/report.tap" } }), ctx());
      expect(out).toMatchObject({ passed: false, tests: NODE_TEST_COUNTS });
    });

    it("passes a clean node --test run", async () => {
      writeFileSync(path.join(workspace, "ok.test.mjs"), `import { test } from "node:test";\ntest("a", () => {});\ntest("b", () => {});\n`);
      const out = await runCommandGate(gate("node --test --test-reporter=tap ok.test.mjs", { report: { format: "tap" } }), ctx());
      expect(out).toMatchObject({ passed: true, tests: { passed: 2, failed: 0, skipped: 0, total: 2 } });
      expect(out.summary).toMatch(/^passed in [\d.]+m?s: 2 passed, 0 failed, 0 skipped$/);
    });
  });
});
