import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProcessSpec } from "../src/transports/port.js";
import { SshTransport } from "../src/transports/ssh/transport.js";
import { remoteProcesses, SSH_USER, TestSshd } from "./helpers/sshd.js";

/**
 * The ssh transport's change detection through a real sshd: the remote watcher (inotifywait held on the connection,
 * src/transports/ssh/remote-watch.ts) tells whether a process changed its copy, the host watch (host-watch.ts)
 * whether the host changed between processes; without either, the `find` check and the host walk do it, as before.
 * What a user sees: every change comes back (or goes out) and a process that changed nothing costs no pull or walk,
 * which syncStats() counts.
 */
describe("transport: ssh, change detection by watchers (real sshd, real inotifywait)", () => {
  const sshd = new TestSshd();
  let dir: string;
  let ws: string;
  let name: string;
  let transport: SshTransport;

  beforeAll(async () => {
    await sshd.start();
  });
  afterAll(async () => {
    await sshd.stop();
  });

  function make(remoteWatcher?: string): SshTransport {
    name = `ws-watch-${String(process.pid)}-${String(Math.random()).slice(2, 8)}`;
    return new SshTransport({
      target: { host: "127.0.0.1", port: sshd.port, user: SSH_USER, keyFile: sshd.keyFile, knownHostsFile: sshd.knownHosts },
      hostWorkspace: ws,
      remoteWorkspace: `~/${name}`,
      skip: [],
      promptDir: join(dir, "prompts"),
      ...(remoteWatcher === undefined ? {} : { remoteWatcher }),
    });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "orc-ssh-w-"));
    ws = join(dir, "ws");
    mkdirSync(join(ws, "sub"), { recursive: true });
    mkdirSync(join(dir, "prompts"));
    writeFileSync(join(ws, "a.txt"), "a\n");
    writeFileSync(join(ws, "b.txt"), "b\n");
    writeFileSync(join(ws, "sub", "c.sh"), "echo c\n", { mode: 0o644 });
    transport = make();
  });
  afterEach(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
    // The remote copies live on this machine (loopback sshd): one test sends 96 MB there.
    for (const suffix of ["", ".orc-sync", ".tasks"]) rmSync(`/home/${SSH_USER}/${name}${suffix}`, { recursive: true, force: true });
  });

  const sh = (command: string, extra: Partial<ProcessSpec> = {}): ProcessSpec => ({ command, shell: true, cwd: ws, env: {}, timeoutMs: 30_000, ...extra });
  const ok = async (command: string, extra: Partial<ProcessSpec> = {}): Promise<string> => {
    const out = await transport.run(sh(command, extra));
    expect(out.error, out.outputTail).toBeUndefined();
    expect(out.exitCode, out.outputTail).toBe(0);
    return out.stdoutTail;
  };

  it("brings back what a process wrote, deleted, made (a directory with files) and chmod'ed; a process that changed nothing pulls nothing", async () => {
    await ok("true");
    expect(transport.syncStats().remoteWatched).toBe(true);
    expect(transport.syncStats().hostWatched).toBe(true);
    const quiet = transport.syncStats().pulls;
    const before = statSync(join(ws, "a.txt"));
    for (let i = 0; i < 3; i++) await ok("cat a.txt >/dev/null; ls sub >/dev/null");
    expect(transport.syncStats().pulls).toBe(quiet);

    await ok("echo written > a.txt");
    expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("written\n");
    await ok("rm b.txt");
    expect(existsSync(join(ws, "b.txt"))).toBe(false);
    await ok("mkdir -p new/deeper && echo f > new/deeper/f.txt && echo g > new/g.txt");
    expect(readFileSync(join(ws, "new", "deeper", "f.txt"), "utf8")).toBe("f\n");
    expect(readFileSync(join(ws, "new", "g.txt"), "utf8")).toBe("g\n");
    await ok("chmod 755 sub/c.sh");
    expect(statSync(join(ws, "sub", "c.sh")).mode & 0o777).toBe(0o755);
    expect(transport.syncStats().pulls).toBe(quiet + 4);

    const written = statSync(join(ws, "a.txt"));
    expect(written.mtimeMs).not.toBe(before.mtimeMs);
    await ok("true");
    const after = statSync(join(ws, "a.txt"));
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
    expect(transport.syncStats().pulls).toBe(quiet + 4);
    // orc's own writes on the host (the pulls above) are not sent back: no walk of the host tree was needed.
    expect(transport.syncStats().hostWalks).toBe(0);
  });

  it("a change on the host between processes (orc restoring files) reaches the remote; no change, no walk", async () => {
    await ok("true");
    writeFileSync(join(ws, "a.txt"), "restored\n");
    rmSync(join(ws, "b.txt"));
    mkdirSync(join(ws, "back"));
    writeFileSync(join(ws, "back", "x.txt"), "x\n");
    expect(await ok("cat a.txt back/x.txt; test -e b.txt || echo no-b")).toBe("restored\nx\nno-b\n");
    const walks = transport.syncStats().hostWalks;
    expect(walks).toBeGreaterThan(0);
    await ok("true");
    await ok("true");
    expect(transport.syncStats().hostWalks).toBe(walks);
  });

  it("a process does not run when the copy's update fails, and what could not be sent goes with the next update", async () => {
    await ok("true");
    // The remote copy's root made read-only: sending a new host file there fails.
    await ok("chmod 555 .");
    writeFileSync(join(ws, "new.txt"), "new\n");
    const marker = `/home/${SSH_USER}/ran-${name}`;
    const out = await transport.run(sh(`touch ${marker}`));
    expect(out.end).toBe("spawn-error");
    expect(out.error).toMatch(/^ssh: updating the remote workspace failed: .*Permission denied/);
    expect(existsSync(marker)).toBe(false);
    // Writable again (the copy is on this machine: loopback), the next update sends the file the failed one could not.
    chmodSync(`/home/${SSH_USER}/${name}`, 0o755);
    expect(await ok("cat new.txt")).toBe("new\n");
    expect(transport.syncStats().remoteWatched).toBe(true);
  });

  it("a process starts only once the watcher watches the directories its copy's update made", async () => {
    await ok("true");
    const task = join(dir, "task");
    mkdirSync(join(task, "d", "e"), { recursive: true });
    // inotifywait held still while a task's copy (with new directories) is made: the process must wait for it.
    const watcher = remoteProcesses(`^inotifywait .*${name}`)[0]?.split(" ")[0] ?? "";
    expect(spawnSync("kill", ["-STOP", watcher]).status).toBe(0);
    const running = transport.run(sh("echo hit > d/e/new.txt", { cwd: task, workspace: task }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(spawnSync("kill", ["-CONT", watcher]).status).toBe(0);
    const out = await running;
    expect(out.exitCode, out.outputTail).toBe(0);
    expect(readFileSync(join(task, "d/e/new.txt"), "utf8")).toBe("hit\n");
    expect(transport.syncStats().remoteWatched).toBe(true);
  });

  it("runs more processes side by side than the connection has process slots, each with a host change to send", async () => {
    await ok("true");
    const tasks = Array.from({ length: 8 }, (_, i) => join(dir, `t${String(i)}`));
    for (const t of tasks) {
      mkdirSync(t);
      writeFileSync(join(t, "f"), "1\n");
    }
    await Promise.all(tasks.map((t) => ok("true", { cwd: t, workspace: t })));
    for (const t of tasks) writeFileSync(join(t, "f"), "2\n");
    const outs = await Promise.all(tasks.map((t) => ok("cat f", { cwd: t, workspace: t, timeoutMs: 20_000 })));
    expect(outs).toEqual(tasks.map(() => "2\n"));
  });

  it("a process's timeout counts from when it can run, not while its channel waited for the copy to be updated", async () => {
    await ok("true");
    writeFileSync(join(ws, "big.bin"), Buffer.alloc(96 * 1024 * 1024, 7));
    // Sending 96 MB takes longer than the process's 60 ms.
    const out = await transport.run(sh("test -s big.bin && echo sent", { timeoutMs: 60 }));
    expect(out.end, out.error).toBe("exited");
    expect(out.stdoutTail).toBe("sent\n");
  });

  it("a task's own copy is watched too: its change comes back to the task's directory", async () => {
    const task = join(dir, "task");
    mkdirSync(task);
    writeFileSync(join(task, "t.txt"), "t\n");
    await ok("echo t2 > t.txt", { cwd: task, workspace: task });
    expect(readFileSync(join(task, "t.txt"), "utf8")).toBe("t2\n");
    const pulls = transport.syncStats(task).pulls;
    await ok("cat t.txt >/dev/null", { cwd: task, workspace: task });
    expect(transport.syncStats(task).pulls).toBe(pulls);
    await ok("echo t3 > t.txt", { cwd: task, workspace: task });
    expect(readFileSync(join(task, "t.txt"), "utf8")).toBe("t3\n");
    expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("a\n");
  });

  it("without inotifywait on the remote, the find check still brings changes back and skips the pull when nothing changed", async () => {
    transport = make("orc-no-such-inotifywait");
    await ok("true");
    expect(transport.syncStats().remoteWatched).toBe(false);
    await ok("echo plain > a.txt && mkdir d && echo e > d/e.txt && rm b.txt");
    expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("plain\n");
    expect(readFileSync(join(ws, "d", "e.txt"), "utf8")).toBe("e\n");
    expect(existsSync(join(ws, "b.txt"))).toBe(false);
    const pulls = transport.syncStats().pulls;
    await ok("true");
    expect(transport.syncStats().pulls).toBe(pulls);
  });

  it("the remote inotifywait killed while a process runs: that process's changes come back in full, later ones through the find check", async () => {
    await ok("true");
    expect(transport.syncStats().remoteWatched).toBe(true);
    const running = transport.run(sh("echo started; sleep 1; echo late > late.txt"));
    for (let i = 0; i < 200 && remoteProcesses(`^sleep 1$`).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const watcher = remoteProcesses(`^inotifywait .*${name}`);
    expect(watcher).toHaveLength(1);
    const barriers = watcher[0]?.split(" ").at(-1) ?? "";
    expect(existsSync(barriers)).toBe(true);
    const killed = spawnSync("kill", [watcher[0]?.split(" ")[0] ?? ""]);
    expect(killed.status).toBe(0);
    const out = await running;
    expect(out.exitCode, out.outputTail).toBe(0);
    expect(readFileSync(join(ws, "late.txt"), "utf8")).toBe("late\n");
    expect(transport.syncStats().remoteWatched).toBe(false);
    await ok("echo after > after.txt && rm a.txt");
    expect(readFileSync(join(ws, "after.txt"), "utf8")).toBe("after\n");
    expect(existsSync(join(ws, "a.txt"))).toBe(false);
    // The watcher's barrier directory went with it.
    expect(existsSync(barriers)).toBe(false);
  });

  it("an overflow of inotify's queue (events lost) counts as a change in every copy and stops the watcher: the find check takes over", async () => {
    const task = join(dir, "task");
    mkdirSync(task);
    await ok("true");
    await ok("true", { cwd: task, workspace: task });
    const watcher = remoteProcesses(`^inotifywait .*${name}`)[0]?.split(" ")[0] ?? "";
    // Stopped, inotifywait reads nothing: the task's copy floods the kernel's queue past its length, so the change
    // made in the run's copy after that is lost. The task's process ends after inotifywait runs again.
    const queued = Number(readFileSync("/proc/sys/fs/inotify/max_queued_events", "utf8"));
    const lines = Math.ceil(queued / 2) + 1000;
    expect(spawnSync("kill", ["-STOP", watcher]).status).toBe(0);
    const flood = transport.run(sh(`i=0; while [ $i -lt ${String(lines)} ]; do echo $i >> many.txt; i=$((i+1)); done; sleep 1`, { cwd: task, workspace: task }));
    const taskFile = `/home/${SSH_USER}/${name}.tasks/${readdirSync(`/home/${SSH_USER}/${name}.tasks`).find((n) => n.startsWith("task-") && !n.endsWith(".orc-sync")) ?? ""}/many.txt`;
    const counted = (): number => (existsSync(taskFile) ? readFileSync(taskFile, "utf8").split("\n").length - 1 : 0);
    for (let i = 0; i < 500 && counted() < lines; i++) await new Promise((r) => setTimeout(r, 20));
    expect(counted()).toBe(lines);
    writeFileSync(`/home/${SSH_USER}/${name}/a.txt`, "lost event\n", { mode: 0o644 });
    expect(spawnSync("kill", ["-CONT", watcher]).status).toBe(0);
    const out = await flood;
    expect(out.exitCode, out.outputTail).toBe(0);
    expect(readFileSync(join(task, "many.txt"), "utf8").split("\n")).toHaveLength(lines + 1);
    // Directories created while events were lost have no watch: the watcher cannot vouch any more.
    expect(transport.syncStats().remoteWatched).toBe(false);
    // The run's copy changed with no event to show for it: counted dirty all the same.
    await ok("true");
    expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("lost event\n");
    const pulls = transport.syncStats().pulls;
    await ok("true");
    expect(transport.syncStats().pulls).toBe(pulls);
    // From now on the wrappers' find check sees what a watcher would have missed.
    await ok("mkdir -p later/deeper && echo seen > later/deeper/f.txt");
    expect(readFileSync(join(ws, "later/deeper/f.txt"), "utf8")).toBe("seen\n");
  });

  it("a lost connection stops the watcher; the reconnected one starts a new watcher and changes come back", async () => {
    await ok("true");
    sshd.dropConnections();
    // The first process after the drop may end transport-lost (the connection went under it) or reconnect first.
    await transport.run(sh("true"));
    await ok("echo again > again.txt");
    expect(readFileSync(join(ws, "again.txt"), "utf8")).toBe("again\n");
    expect(transport.syncStats().remoteWatched).toBe(true);
    const pulls = transport.syncStats().pulls;
    await ok("true");
    expect(transport.syncStats().pulls).toBe(pulls);
  });
});
