import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProcessSpec } from "../src/transports/port.js";
import { SshTransport } from "../src/transports/ssh/transport.js";
import { wrapperPattern } from "../src/transports/ssh/wrapper.js";
import { remoteProcesses, SSH_USER, TestSshd } from "./helpers/sshd.js";

/**
 * SshTransport against a real sshd on loopback (tests/helpers/sshd.ts), as the run loop uses it: one transport per
 * run, many processes, the workspace kept in step both ways.
 */
describe("transport: ssh (SshTransport through a real sshd)", () => {
  const sshd = new TestSshd();
  let dir: string;
  let ws: string;
  let transport: SshTransport;

  beforeAll(async () => {
    await sshd.start();
  });
  afterAll(async () => {
    await sshd.stop();
  });

  function make(overrides: { knownHostsFile?: string; fingerprint?: string; remoteWorkspace?: string } = {}): SshTransport {
    return new SshTransport({
      target: { host: "127.0.0.1", port: sshd.port, user: SSH_USER, keyFile: sshd.keyFile, knownHostsFile: overrides.knownHostsFile ?? sshd.knownHosts, ...(overrides.fingerprint === undefined ? {} : { fingerprint: overrides.fingerprint }) },
      hostWorkspace: ws,
      remoteWorkspace: overrides.remoteWorkspace ?? `~/ws-${String(process.pid)}-${String(Math.random()).slice(2, 8)}`,
      skip: [],
      promptDir: join(dir, "prompts"),
    });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "orc-ssh-t-"));
    ws = join(dir, "ws");
    mkdirSync(ws);
    mkdirSync(join(dir, "prompts"));
    transport = make();
  });
  afterEach(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sh = (command: string, extra: Partial<ProcessSpec> = {}): ProcessSpec => ({ command, shell: true, cwd: ws, env: {}, timeoutMs: 30_000, ...extra });

  it("runs remotely as the remote user, with the given env, stdin, working directory and exit code", async () => {
    mkdirSync(join(ws, "sub"));
    const out = await transport.run(sh(`printf '%s|%s|%s|' "$(id -un)" "$TOKEN" "$(basename "$PWD")"; cat; echo oops >&2; exit 7`, { cwd: join(ws, "sub"), env: { TOKEN: "it's a\nsecret" }, stdin: "from stdin" }));
    expect(out.error).toBeUndefined();
    expect(out.end).toBe("exited");
    expect(out.exitCode).toBe(7);
    expect(out.stdoutTail).toBe(`${SSH_USER}|it's a\nsecret|sub|from stdin`);
    expect(out.stderrTail).toBe("oops\n");
    const argv = await transport.run({ command: "printf", args: ["[%s]", "a b", "$HOME", "'q'"], cwd: ws, env: {} });
    expect(argv.stdoutTail).toBe("[a b][$HOME]['q']");
  });

  it("brings the host workspace to the remote and the remote's changes (new, changed, deleted files) back", async () => {
    writeFileSync(join(ws, "keep.txt"), "host\n");
    writeFileSync(join(ws, "gone.txt"), "bye\n");
    mkdirSync(join(ws, "src"));
    writeFileSync(join(ws, "src", "a.js"), "1\n");
    const first = await transport.run(sh("cat keep.txt src/a.js && echo remote > new.txt && mkdir -p deep/er && echo x > deep/er/f && rm gone.txt && echo 2 >> src/a.js && chmod +x src/a.js"));
    expect(first.stdoutTail).toBe("host\n1\n");
    expect(readFileSync(join(ws, "new.txt"), "utf8")).toBe("remote\n");
    expect(readFileSync(join(ws, "deep", "er", "f"), "utf8")).toBe("x\n");
    expect(existsSync(join(ws, "gone.txt"))).toBe(false);
    expect(readFileSync(join(ws, "src", "a.js"), "utf8")).toBe("1\n2\n");
    // Host-side changes between processes (a rollback, say) reach the remote before the next one.
    writeFileSync(join(ws, "keep.txt"), "changed on the host\n");
    rmSync(join(ws, "new.txt"));
    const second = await transport.run(sh("cat keep.txt; test -e new.txt && echo still-there; test -x src/a.js && echo executable"));
    expect(second.stdoutTail).toBe("changed on the host\nexecutable\n");
    expect(readFileSync(join(ws, "keep.txt"), "utf8")).toBe("changed on the host\n");
  });

  it("does not bring back a link the remote planted to reach outside the workspace, nor write through one", async () => {
    const outside = join(dir, "outside");
    mkdirSync(outside);
    const out = await transport.run(sh(`ln -s ${outside} escape && mkdir -p .git && echo x > .git/planted`));
    expect(out.exitCode).toBe(0);
    const next = await transport.run(sh("rm escape && mkdir escape && echo pwned > escape/file"));
    expect(next.exitCode).toBe(0);
    expect(existsSync(join(outside, "file"))).toBe(false);
    expect(readFileSync(join(ws, "escape", "file"), "utf8")).toBe("pwned\n");
    expect(existsSync(join(ws, ".git", "planted"))).toBe(false);
  });

  it("a timeout kills the remote process group, background jobs included", async () => {
    const out = await transport.run(sh("sleep 300 & sleep 301", { timeoutMs: 500, killGraceMs: 200 }));
    expect(out.end).toBe("timeout");
    await new Promise((r) => setTimeout(r, 300));
    expect(remoteProcesses("^sleep 30[01]")).toEqual([]);
  });

  it("cancellation kills the remote process group", async () => {
    const controller = new AbortController();
    const running = transport.run(sh("sleep 302 & sleep 303; echo never", { signal: controller.signal, killGraceMs: 200 }));
    for (let i = 0; i < 100 && remoteProcesses("^sleep 303").length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(remoteProcesses("^sleep 303")).toHaveLength(1);
    controller.abort();
    const out = await running;
    expect(out.end).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 300));
    expect(remoteProcesses("^sleep 30[23]")).toEqual([]);
  });

  it("a connection killed mid-process ends it transport-lost, and the next run reconnects", async () => {
    await transport.run(sh("true"));
    let dropped = 0;
    const running = transport.run(sh("echo started; sleep 5; echo late > late.txt", { onStdout: () => { dropped = sshd.dropConnections(); } }));
    const out = await running;
    expect(dropped).toBeGreaterThan(0);
    expect(out.end).toBe("transport-lost");
    expect(out.error).toMatch(/SSH connection to .* was lost while the process ran/);
    const again = await transport.run(sh("echo back > back.txt; id -un"));
    expect(again.error).toBeUndefined();
    expect(again.end).toBe("exited");
    expect(again.stdoutTail).toBe(`${SSH_USER}\n`);
    expect(readFileSync(join(ws, "back.txt"), "utf8")).toBe("back\n");
  });

  it("refuses an unknown host and a changed host key with one clear line; a pinned fingerprint is accepted", async () => {
    const unknown = make({ knownHostsFile: join(dir, "no-such-known-hosts") });
    const refused = await unknown.run(sh("true"));
    expect(refused.end).toBe("spawn-error");
    expect(refused.error).toContain(`unknown host key for [127.0.0.1]:${String(sshd.port)} (${sshd.fingerprint})`);
    expect(refused.error).not.toContain("\n");
    const changed = make({ knownHostsFile: sshd.otherKnownHosts });
    expect((await changed.run(sh("true"))).error).toContain("HOST KEY CHANGED");
    const pinned = make({ knownHostsFile: join(dir, "no-such-known-hosts"), fingerprint: sshd.fingerprint });
    const ok = await pinned.run(sh("echo pinned"));
    expect(ok.stdoutTail).toBe("pinned\n");
    await Promise.all([unknown.close(), changed.close(), pinned.close()]);
  });

  it("keeps output bounded and streams it as it arrives", async () => {
    const chunks: string[] = [];
    const out = await transport.run(sh("head -c 200000 /dev/zero | tr '\\0' x", { maxOutputBytes: 1000, onStdout: (c) => chunks.push(c) }));
    expect(out.stdoutTail).toBe("x".repeat(1000));
    expect(chunks.join("").length).toBe(200_000);
    expect(out.droppedBytes).toBe(199_000);
  });

  it("more processes at once than sshd allows channels (MaxSessions 10) queue and all finish; a cancel gets through while every slot is held", async () => {
    await transport.run(sh("true"));
    const outs = await Promise.all(Array.from({ length: 14 }, (_, i) => transport.run(sh(`sleep 0.3; echo ${String(i)}`))));
    expect(outs.map((o) => o.stdoutTail)).toEqual(Array.from({ length: 14 }, (_, i) => `${String(i)}\n`));
    const controller = new AbortController();
    const held = Array.from({ length: 9 }, () => transport.run(sh("sleep 304", { signal: controller.signal, killGraceMs: 200 })));
    for (let i = 0; i < 200 && remoteProcesses("^sleep 304").length < 5; i++) await new Promise((r) => setTimeout(r, 25));
    expect(remoteProcesses("^sleep 304")).toHaveLength(5);
    controller.abort();
    const ends = await Promise.all(held);
    expect(ends.map((o) => o.end), ends.map((o) => o.error ?? "").join("; ")).toEqual(Array.from({ length: 9 }, () => "cancelled"));
    await new Promise((r) => setTimeout(r, 300));
    expect(remoteProcesses("^sleep 304")).toEqual([]);
  });

  it("opens the next process's channel ahead: one idle remote shell that runs nothing, gives its slot to a task's process, and is gone at close", async () => {
    const name = `ws-ahead-${String(process.pid)}`;
    transport = make({ remoteWorkspace: `~/${name}` });
    const waiting = (): string[] => remoteProcesses(wrapperPattern(`/home/${SSH_USER}/${name}.orc-sync`));
    expect((await transport.run(sh("echo one"))).stdoutTail).toBe("one\n");
    for (let i = 0; i < 200 && waiting().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(waiting(), waiting().join("\n")).toHaveLength(1);
    // The next process runs on it, with its own parameters and environment.
    expect((await transport.run(sh('printf %s "$X"', { env: { X: "two" } }))).stdoutTail).toBe("two");
    // A task's processes filling every process slot: the last one gets the slot the idle shell held, at once.
    const task = join(dir, "task");
    mkdirSync(task);
    for (let i = 0; i < 200 && waiting().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const controller = new AbortController();
    const held = Array.from({ length: 5 }, () => transport.run(sh("sleep 306", { cwd: task, workspace: task, signal: controller.signal, killGraceMs: 200 })));
    for (let i = 0; i < 200 && remoteProcesses("^sleep 306").length < 5; i++) await new Promise((r) => setTimeout(r, 25));
    expect(remoteProcesses("^sleep 306")).toHaveLength(5);
    controller.abort();
    await Promise.all(held);
    await transport.close();
    for (let i = 0; i < 200 && waiting().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(waiting()).toEqual([]);
    expect(remoteProcesses("^sleep 306")).toEqual([]);
  });

  it("a process cancelled while it waits for a channel ends at once and never runs", async () => {
    const name = `ws-cancel-${String(process.pid)}`;
    transport = make({ remoteWorkspace: `~/${name}` });
    await transport.run(sh("true"));
    const busy = Array.from({ length: 5 }, () => transport.run(sh("sleep 2.5")));
    const controller = new AbortController();
    const waiting = transport.run(sh("touch ran", { signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 200)); // every process slot is held: it waits for one
    controller.abort();
    // It ends at once, not when a slot comes free.
    const first = await Promise.race([waiting.then(() => "the cancelled one"), Promise.all(busy).then(() => "the busy ones")]);
    expect(first).toBe("the cancelled one");
    const [out] = await Promise.all([waiting, ...busy]);
    expect(out.end).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(join("/home", SSH_USER, name, "ran"))).toBe(false);
    expect(existsSync(join(ws, "ran"))).toBe(false);
  });

  it("a channel opened ahead whose remote shell was killed while it waited: the next process runs on a new one, once", async () => {
    const name = `ws-killed-${String(process.pid)}`;
    transport = make({ remoteWorkspace: `~/${name}` });
    const waiting = (): string[] => remoteProcesses(wrapperPattern(`/home/${SSH_USER}/${name}.orc-sync`));
    await transport.run(sh("true"));
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 200 && waiting().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      for (const line of waiting()) process.kill(Number(line.split(" ")[0]), "SIGKILL");
      // At once: the kill's news may still be on its way, or already here.
      const out = await transport.run(sh("echo $((n + 1)) >> count; cat count", { env: { n: String(round) } }));
      expect(out.end).toBe("exited");
      expect(out.exitCode).toBe(0);
      expect(out.stdoutTail.trim().split("\n")).toEqual(Array.from({ length: round + 1 }, (_, i) => String(i + 1)));
    }
  });

  it("a new orc process kills what an orc that died left running in the same remote workspace, then copies it afresh", async () => {
    const remoteWorkspace = `~/ws-dead-${String(process.pid)}`;
    const options = { target: { host: "127.0.0.1", port: sshd.port, user: SSH_USER, keyFile: sshd.keyFile, knownHostsFile: sshd.knownHosts }, hostWorkspace: ws, remoteWorkspace, skip: [], promptDir: join(dir, "prompts") };
    const dead = new SshTransport(options);
    const deadRun = dead.run(sh("sleep 305"));
    for (let i = 0; i < 200 && remoteProcesses("^sleep 305").length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(remoteProcesses("^sleep 305"), JSON.stringify(await Promise.race([deadRun, Promise.resolve("running")]))).toHaveLength(1);
    dead.breakConnection(); // as if orc had died: the remote process keeps running
    const next = new SshTransport(options);
    writeFileSync(join(ws, "fresh.txt"), "new\n");
    const out = await next.run(sh("cat fresh.txt"));
    expect(out.stdoutTail).toBe("new\n");
    expect(remoteProcesses("^sleep 305")).toEqual([]);
    await next.close();
    await dead.close();
  });
});
