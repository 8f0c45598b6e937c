import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { getEventListeners } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DRAIN_CAP_MS, TailBuffer, supervise } from "../src/transports/supervisor.js";
import { LocalTransport } from "../src/transports/local.js";
import type { ProcessSpec } from "../src/transports/port.js";
import { isAlive } from "./helpers/rig.js";

const env = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" };
const dir = mkdtempSync(path.join(tmpdir(), "orc-supervisor-"));
const strays: number[] = [];

afterAll(() => {
  for (const pid of strays) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function sh(command: string, extra: Partial<ProcessSpec> = {}): Promise<Awaited<ReturnType<typeof supervise>>> {
  return supervise({ command, shell: true, cwd: dir, env, ...extra });
}

async function eventually(check: () => boolean, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** The first line the child printed, as a pid. */
function firstPid(text: string): number {
  const pid = Number(text.split("\n")[0]);
  expect(pid).toBeGreaterThan(1);
  strays.push(pid);
  return pid;
}

describe("supervise", () => {
  it("runs a command, keeps each stream and the interleaved output, records the exit code", async () => {
    const out = await sh("echo out; echo err >&2; exit 3");
    expect(out).toMatchObject({ end: "exited", exitCode: 3, signal: null, stdoutTail: "out\n", stderrTail: "err\n" });
    expect(out.outputTail).toContain("out\n");
    expect(out.outputTail).toContain("err\n");
    expect(out.pid).toBeTypeOf("number");
    expect(out.droppedBytes).toBe(0);
    expect(out.error).toBeUndefined();
  });

  it("runs an executable with args and no shell, with only the given environment", async () => {
    const out = await supervise({
      command: process.execPath,
      args: ["-e", "process.stdout.write(JSON.stringify([process.argv[1], process.env.ONLY, process.env.HOME]))", "a b"],
      cwd: dir,
      env: { ONLY: "yes" },
    });
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdoutTail)).toEqual(["a b", "yes", null]);
  });

  it("passes args to a shell command as positional parameters", async () => {
    const out = await supervise({ command: 'printf "%s|" "$@"', args: ["x y", "z"], shell: true, cwd: dir, env });
    expect(out.stdoutTail).toBe("x y|z|");
  });

  it("on timeout kills the whole process group, grandchild included", async () => {
    const out = await sh("sleep 100 & echo $!; sleep 100", { timeoutMs: 300 });
    const grandchild = firstPid(out.stdoutTail);
    expect(out.end).toBe("timeout");
    expect(out.signal).toBe("SIGTERM");
    expect(out.exitCode).toBeNull();
    // sleep obeys SIGTERM: no need to wait for the 2 s grace.
    expect(out.durationMs).toBeGreaterThanOrEqual(290);
    expect(out.durationMs).toBeLessThan(1500);
    expect(await eventually(() => !isAlive(grandchild))).toBe(true);
  });

  it("sends SIGKILL after the grace to a group that ignores SIGTERM", async () => {
    const script = "process.on('SIGTERM', () => console.log('got SIGTERM')); console.log('ready'); setInterval(() => {}, 1000);";
    const out = await sh(`node -e "${script}" & echo $!; trap '' TERM; sleep 100`, { timeoutMs: 500, killGraceMs: 400 });
    const grandchild = firstPid(out.stdoutTail);
    expect(out.end).toBe("timeout");
    expect(out.signal).toBe("SIGKILL");
    expect(out.stdoutTail).toContain("got SIGTERM");
    expect(out.durationMs).toBeGreaterThanOrEqual(880);
    expect(out.durationMs).toBeLessThan(2500);
    expect(await eventually(() => !isAlive(grandchild))).toBe(true);
  });

  it("kills what the leader left behind when it exits on its own, so no pipe holder is orphaned", async () => {
    const out = await sh("sleep 100 & echo $!; exit 0");
    const grandchild = firstPid(out.stdoutTail);
    expect(out).toMatchObject({ end: "exited", exitCode: 0 });
    expect(out.durationMs).toBeLessThan(1000);
    expect(await eventually(() => !isAlive(grandchild))).toBe(true);
  });

  it("does not wait forever for a pipe held by a process that left the group", async () => {
    const out = await sh("setsid sleep 30 & echo $!; sleep 0.3; exit 0");
    firstPid(out.stdoutTail);
    expect(out).toMatchObject({ end: "exited", exitCode: 0 });
    expect(out.durationMs).toBeGreaterThanOrEqual(DRAIN_CAP_MS + 250);
    expect(out.durationMs).toBeLessThan(DRAIN_CAP_MS + 1500);
  });

  it("stops a process that stays silent past the inactivity limit", async () => {
    const out = await sh("echo started; sleep 100", { inactivityTimeoutMs: 300 });
    expect(out.end).toBe("stalled");
    expect(out.stdoutTail).toBe("started\n");
    expect(out.durationMs).toBeGreaterThanOrEqual(290);
    expect(out.durationMs).toBeLessThan(1500);
  });

  it("lets a process that prints regularly run well past the inactivity window", async () => {
    const out = await sh("for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.1; done", { inactivityTimeoutMs: 400 });
    expect(out).toMatchObject({ end: "exited", exitCode: 0 });
    expect(out.durationMs).toBeGreaterThan(800);
  });

  it("counts stderr as activity too", async () => {
    const out = await sh("for i in 1 2 3 4 5 6 7 8; do echo $i >&2; sleep 0.1; done", { inactivityTimeoutMs: 400 });
    expect(out).toMatchObject({ end: "exited", exitCode: 0 });
  });

  it("cancels a running process when the signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => { controller.abort(); }, 200);
    const out = await sh("sleep 100 & echo $!; sleep 100", { signal: controller.signal });
    const grandchild = firstPid(out.stdoutTail);
    expect(out.end).toBe("cancelled");
    expect(out.durationMs).toBeLessThan(1500);
    expect(await eventually(() => !isAlive(grandchild))).toBe(true);
  });

  it("does not start anything when the signal is already aborted", async () => {
    const marker = path.join(dir, "should-not-exist");
    const out = await sh(`touch ${marker}`, { signal: AbortSignal.abort() });
    expect(out).toMatchObject({ end: "cancelled", pid: undefined, exitCode: null, durationMs: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(marker)).toBe(false);
  });

  it("keeps only a bounded tail of a 10 MB writer: the END of the output, in bounded memory", async () => {
    const size = 10 * 1024 * 1024;
    const script = `const s = "0123456789abcdef".repeat(${size / 16}); process.stdout.write(s); process.stdout.write("<END>");`;
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let streamed = 0;
    const out = await supervise({
      command: process.execPath,
      args: ["-e", script],
      cwd: dir,
      env,
      onStdout: (chunk) => {
        streamed += chunk.length;
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      },
    });
    expect(out.exitCode).toBe(0);
    expect(streamed).toBe(size + 5);
    expect(out.stdoutTail.endsWith("<END>")).toBe(true);
    expect(Buffer.byteLength(out.stdoutTail)).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.byteLength(out.stdoutTail)).toBeGreaterThan(60 * 1024);
    expect(out.outputTail).toBe(out.stdoutTail);
    expect(out.droppedBytes).toBe(size + 5 - Buffer.byteLength(out.outputTail));
    // Retaining the whole output would add at least 10 MB; garbage from 64 KiB reads stays well below that.
    // Young-generation garbage from 64 KiB reads alone reaches ~16 MB here, so 10 MB says little about retention:
    expect(peak - before).toBeLessThan(40 * 1024 * 1024);
  });

  it("stays in bounded memory through 200 MB of output", async () => {
    const mb = 200;
    const script = `const s = "x".repeat(1024 * 1024); for (let i = 0; i < ${mb}; i++) process.stdout.write(s); process.stdout.write("<END>");`;
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const out = await supervise({
      command: process.execPath,
      args: ["-e", script],
      cwd: dir,
      env,
      onStdout: () => {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      },
    });
    expect(out.stdoutTail.endsWith("<END>")).toBe(true);
    expect(out.droppedBytes).toBe(mb * 1024 * 1024 + 5 - Buffer.byteLength(out.outputTail));
    // Keeping the output would cost 200 MB (x2 for the combined copy); the bounded tails cost well under 1 MB.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("honours a smaller maxOutputBytes for each tail", async () => {
    const out = await sh("seq 1 10000; seq 1 10000 >&2", { maxOutputBytes: 100 });
    expect(Buffer.byteLength(out.stdoutTail)).toBeLessThanOrEqual(100);
    expect(out.stdoutTail.endsWith("9999\n10000\n")).toBe(true);
    expect(out.stderrTail.endsWith("10000\n")).toBe(true);
    expect(Buffer.byteLength(out.outputTail)).toBeLessThanOrEqual(100);
    expect(out.droppedBytes).toBeGreaterThan(90_000);
  });

  it("delivers stdin to the child and closes it", async () => {
    const out = await sh("cat", { stdin: "line one\nline two\n" });
    expect(out).toMatchObject({ end: "exited", exitCode: 0, stdoutTail: "line one\nline two\n" });
  });

  it("does not fail when the child exits without reading a large stdin (EPIPE swallowed)", async () => {
    const out = await sh("exit 0", { stdin: "x".repeat(1024 * 1024) });
    expect(out).toMatchObject({ end: "exited", exitCode: 0 });
  });

  it("ignores stdin when none is given (a reader sees EOF at once)", async () => {
    const out = await sh("cat; echo done", { timeoutMs: 5000 });
    expect(out).toMatchObject({ end: "exited", stdoutTail: "done\n" });
  });

  it("reports a missing executable as a spawn error, not a throw", async () => {
    const out = await supervise({ command: "/definitely/not/here", cwd: dir, env });
    expect(out.end).toBe("spawn-error");
    expect(out.error).toMatch(/ENOENT/);
    expect(out.exitCode).toBeNull();
    expect(out.pid).toBeUndefined();
  });

  it("reports a file that is not executable as a spawn error", async () => {
    const file = path.join(dir, "not-executable");
    writeFileSync(file, "#!/bin/sh\necho hi\n");
    chmodSync(file, 0o644);
    const out = await supervise({ command: file, cwd: dir, env });
    expect(out.end).toBe("spawn-error");
    expect(out.error).toMatch(/EACCES/);
  });

  it("reports a missing working directory in words", async () => {
    const out = await sh("true", { cwd: path.join(dir, "nope") });
    expect(out.end).toBe("spawn-error");
    expect(out.error).toBe(`working directory does not exist: ${path.join(dir, "nope")}`);
  });

  it("reports an invalid argument as a spawn error", async () => {
    const out = await supervise({ command: "echo", args: ["a\u0000b"], cwd: dir, env });
    expect(out.end).toBe("spawn-error");
    expect(out.error).toBeDefined();
  });

  it("keeps a UTF-8 character whole when it is split across reads", async () => {
    // "€" is E2 82 AC; write it in two pieces with a pause between, on both streams.
    const script =
      "process.stdout.write(Buffer.from([0xe2, 0x82])); process.stderr.write(Buffer.from([0xf0, 0x9f]));" +
      "setTimeout(() => { process.stdout.write(Buffer.from([0xac, 0x0a])); process.stderr.write(Buffer.from([0x98, 0x80])); }, 150);";
    const chunks: string[] = [];
    const out = await supervise({ command: process.execPath, args: ["-e", script], cwd: dir, env, onStdout: (c) => chunks.push(c) });
    expect(out.stdoutTail).toBe("€\n");
    expect(out.stderrTail).toBe("😀");
    expect(chunks.join("")).toBe("€\n");
    expect(out.outputTail).not.toContain("\uFFFD");
  });

  it("leaves no abort listener or timer behind after many runs", async () => {
    const controller = new AbortController();
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    for (let batch = 0; batch < 20; batch++) {
      const runs = Array.from({ length: 10 }, () =>
        sh("true", { signal: controller.signal, timeoutMs: 60_000, inactivityTimeoutMs: 60_000 }),
      );
      for (const out of await Promise.all(runs)) expect(out.exitCode).toBe(0);
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
  });

  it("survives an observer that throws", async () => {
    const out = await sh("echo a; echo b", {
      onStdout: () => {
        throw new Error("observer bug");
      },
    });
    expect(out).toMatchObject({ end: "exited", exitCode: 0, stdoutTail: "a\nb\n" });
  });

  it("is what LocalTransport runs", async () => {
    const transport = new LocalTransport();
    expect(transport.kind).toBe("local");
    const out = await transport.run({ command: "echo via-transport", shell: true, cwd: dir, env });
    expect(out.stdoutTail).toBe("via-transport\n");
  });
});

describe("TailBuffer", () => {
  it("keeps the last bytes on a character boundary and counts what it dropped", () => {
    const tail = new TailBuffer(11);
    for (let i = 0; i < 100; i++) tail.push("é");
    const text = tail.toString();
    expect(text).toBe("é".repeat(5));
    expect(tail.dropped).toBe(200 - 10);
  });

  it("keeps nothing at a limit of zero", () => {
    const tail = new TailBuffer(0);
    tail.push("abc");
    expect(tail.toString()).toBe("");
    expect(tail.dropped).toBe(3);
  });
});
