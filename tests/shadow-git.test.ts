import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseDiff, refName } from "../src/workspace/git-formats.js";
import { EMPTY_TREE, GitError, ShadowGit } from "../src/workspace/shadow-git.js";
import type { ProcessOutcome, ProcessSpec, Transport } from "../src/transports/port.js";
import { startTimeOf } from "../src/transports/process-identity.js";

/** A minimal local transport: exactly the given env, whole output kept, calls recorded. */
class RecordingTransport implements Transport {
  readonly kind = "test-local";
  readonly calls: ProcessSpec[] = [];
  running = 0;
  maxRunning = 0;

  run(spec: ProcessSpec): Promise<ProcessOutcome> {
    this.calls.push(spec);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(spec.command, [...(spec.args ?? [])], { cwd: spec.cwd, env: { ...spec.env }, stdio: ["pipe", "pipe", "pipe"] });
      child.stdin.on("error", () => undefined); // git may exit without reading it (EPIPE): its outcome tells
      child.stdin.end(spec.stdin ?? "");
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      const finish = (outcome: Partial<ProcessOutcome>): void => {
        this.running--;
        const stdoutTail = Buffer.concat(out).toString("utf8");
        const stderrTail = Buffer.concat(err).toString("utf8");
        resolve({
          exitCode: null,
          signal: null,
          end: "exited",
          durationMs: Date.now() - started,
          pid: child.pid,
          stdoutTail,
          stderrTail,
          outputTail: stdoutTail + stderrTail,
          droppedBytes: 0,
          ...outcome,
        });
      };
      child.on("error", (e) => {
        finish({ end: "spawn-error", error: e.message });
      });
      child.on("close", (code, signal) => {
        finish({ exitCode: code, signal });
      });
    });
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(options: { stateDirName?: string } = {}) {
  const root = mkdtempSync(join(tmpdir(), "orc-ckpt-test-"));
  dirs.push(root);
  const workspace = join(root, "ws");
  mkdirSync(workspace);
  const stateDir = join(workspace, options.stateDirName ?? ".orc");
  const transport = new RecordingTransport();
  const git = new ShadowGit({ storeDir: join(stateDir, "checkpoints.git"), workspace, stateDir, transport });
  const write = (path: string, content: string | Buffer): void => {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), content);
  };
  const read = (path: string): string => readFileSync(join(workspace, path), "utf8");
  const has = (path: string): boolean => existsSync(join(workspace, path));
  const lsTree = (tree: string): string[] =>
    execFileSync("git", ["--git-dir", git.storeDir, "ls-tree", "-r", "-z", "--name-only", tree], { env: isolatedEnv(root) })
      .toString("utf8")
      .split("\0")
      .filter((p) => p !== "");
  return { root, workspace, stateDir, transport, git, write, read, has, lsTree };
}

function isolatedEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "user",
    GIT_AUTHOR_EMAIL: "user@example.com",
    GIT_COMMITTER_NAME: "user",
    GIT_COMMITTER_EMAIL: "user@example.com",
  };
}

/** Every file under `dir` with the sha256 of its bytes and its mode. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[relative(dir, full)] = `${createHash("sha256").update(readFileSync(full)).digest("hex")} ${statSync(full).mode.toString(8)}`;
    }
  };
  walk(dir);
  return out;
}

describe("ShadowGit", () => {
  it("snapshots an empty workspace as the empty tree, and the same content as the same tree", async () => {
    const { git, write } = setup();
    await git.init();
    expect(await git.snapshot()).toBe(EMPTY_TREE);
    write("a.txt", "one\n");
    const t1 = await git.snapshot();
    expect(await git.snapshot()).toBe(t1);
    expect(await git.diff(t1, t1)).toEqual([]);
    await git.init(); // idempotent
    expect(await git.snapshot()).toBe(t1);
  });

  it("makes the store again where a killed orc left it half made, and leaves one a live orc is making", async () => {
    const { git, write } = setup();
    // As kill -9 during `git init` leaves it: HEAD written, objects/ not yet, the marker naming a pid no process has.
    mkdirSync(join(git.storeDir, "refs"), { recursive: true });
    writeFileSync(join(git.storeDir, "HEAD"), "ref: refs/heads/master\n");
    writeFileSync(join(git.storeDir, "orc-creating"), "2147483646\n");
    write("a.txt", "one\n");
    await git.init();
    const tree = await git.snapshot();
    expect(await git.diff(EMPTY_TREE, tree)).toMatchObject([{ path: "a.txt", status: "added" }]);
    expect(existsSync(join(git.storeDir, "orc-creating"))).toBe(false);

    // Another orc still making it (a live pid with its start time): left alone, checkpoints and all.
    writeFileSync(join(git.storeDir, "orc-creating"), `${String(process.ppid)} ${startTimeOf(process.ppid) ?? ""}\n`);
    await git.init();
    expect(await git.snapshot()).toBe(tree);
    expect(existsSync(join(git.storeDir, "orc-creating"))).toBe(true);

    // The same pid with another start time: a process that took the dead maker's pid. Made afresh.
    writeFileSync(join(git.storeDir, "orc-creating"), `${String(process.ppid)} 1\n`);
    await git.init();
    expect(existsSync(join(git.storeDir, "orc-creating"))).toBe(false);

    // An older orc's store cut short in `git init`, with no marker: HEAD, no objects/. Made afresh.
    rmSync(git.storeDir, { recursive: true });
    mkdirSync(git.storeDir);
    writeFileSync(join(git.storeDir, "HEAD"), "ref: refs/heads/master\n");
    await git.init();
    expect(await git.snapshot()).toBe(tree);
  });

  it("diffs added, modified, deleted, renamed, binary and oddly named files", async () => {
    const { git, write } = setup();
    await git.init();
    write("src/keep.ts", "a\nb\nc\n");
    write("src/gone.ts", "x\ny\n");
    write("old name.md", "moved\ncontent\n");
    write("img.bin", Buffer.from([0, 1, 2, 3, 0, 255]));
    write("exec.sh", "echo hi\n");
    const before = await git.snapshot();

    write("src/keep.ts", "a\nB\nc\nd\n"); // -1 +2
    rmSync(join(git.workspace, "src/gone.ts"));
    renameSync(join(git.workspace, "old name.md"), join(git.workspace, "new name.md"));
    write("img.bin", Buffer.from([0, 9, 9, 9, 0, 255]));
    write("tab\there\nnewline \"quoted\" ünï.txt", "1\n2\n3\n");
    chmodSync(join(git.workspace, "exec.sh"), 0o755);
    const after = await git.snapshot();

    expect(await git.diff(before, after)).toEqual([
      { path: "exec.sh", status: "modified", added: 0, removed: 0, binary: false },
      { path: "img.bin", status: "modified", added: 0, removed: 0, binary: true },
      { path: "new name.md", status: "added", added: 2, removed: 0, binary: false },
      { path: "old name.md", status: "deleted", added: 0, removed: 2, binary: false },
      { path: "src/gone.ts", status: "deleted", added: 0, removed: 2, binary: false },
      { path: "src/keep.ts", status: "modified", added: 2, removed: 1, binary: false },
      { path: "tab\there\nnewline \"quoted\" ünï.txt", status: "added", added: 3, removed: 0, binary: false },
    ]);
    expect(await git.diff(EMPTY_TREE, before)).toHaveLength(5);
  });

  it("restores a checkpoint: new files removed, deleted ones back, edits reverted, ignored files kept", async () => {
    const { git, write, read, has } = setup();
    await git.init();
    write(".gitignore", "build/\n*.log\n");
    write("src/a.ts", "original\n");
    write("src/b.ts", "b\n");
    write("build/out.js", "built\n");
    const tree = await git.snapshot();

    write("src/a.ts", "changed\n");
    rmSync(join(git.workspace, "src/b.ts"));
    write("src/new.ts", "new\n");
    write("newdir/deep/file.txt", "deep\n");
    write("debug.log", "log\n");
    write("build/out.js", "rebuilt\n");
    write(".orc/runs/x.json", "{}\n");

    await git.restore(tree);
    expect(read("src/a.ts")).toBe("original\n");
    expect(read("src/b.ts")).toBe("b\n");
    expect(has("src/new.ts")).toBe(false);
    expect(has("newdir")).toBe(false);
    // Ignored and excluded files are not orc's to delete.
    expect(read("debug.log")).toBe("log\n");
    expect(read("build/out.js")).toBe("rebuilt\n");
    expect(read(".orc/runs/x.json")).toBe("{}\n");
    expect(await git.snapshot()).toBe(tree);
  });

  it("restores an older checkpoint over changes nobody recorded: files and directories swapped, modes, strays pruned", async () => {
    const { git, write, read, has, transport, workspace } = setup();
    await git.init();
    write("keep.txt", "keep\n");
    write("was-file", "a file\n");
    write("dir/inner.txt", "inner\n");
    write("run.sh", "#!/bin/sh\n");
    const older = await git.snapshot();
    // A later checkpoint (the index now holds it), then changes made after it and never recorded.
    write("keep.txt", "recorded edit\n");
    write("added-later.txt", "later\n");
    chmodSync(join(workspace, "run.sh"), 0o755);
    await git.snapshot();
    rmSync(join(workspace, "was-file"));
    write("was-file/child.txt", "now a directory\n");
    rmSync(join(workspace, "dir"), { recursive: true });
    write("dir", "now a file\n");
    write("stray/deep/er/x.txt", "stray\n");
    write("keep.txt", "unrecorded edit\n");

    const before = transport.calls.length;
    await git.restore(older);
    const files = (dir: string): Record<string, string> => Object.fromEntries(Object.entries(fingerprint(dir)).filter(([path]) => !path.startsWith(".orc/")));
    expect(files(workspace)).toEqual(await (async () => {
      // The same files, as a fresh checkout of `older` writes them.
      const fresh = setup();
      await fresh.git.init();
      fresh.write("keep.txt", "keep\n");
      fresh.write("was-file", "a file\n");
      fresh.write("dir/inner.txt", "inner\n");
      fresh.write("run.sh", "#!/bin/sh\n");
      return files(fresh.workspace);
    })());
    expect(read("keep.txt")).toBe("keep\n");
    expect(has("stray")).toBe(false);
    expect(has("added-later.txt")).toBe(false);
    expect((statSync(join(workspace, "run.sh")).mode & 0o111) === 0).toBe(true);
    // One look at the whole workspace (`status`), no whole recording (`add --all`) first.
    const commands = transport.calls.slice(before).map((c) => (c.args ?? []).find((a) => ["status", "add", "restore", "read-tree"].includes(a)));
    expect(commands).toContain("status");
    expect(commands).not.toContain("add");
    expect(await git.snapshot()).toBe(older);
  });

  it("restores by scan again and again, the index and the workspace each moved on since the last restore", async () => {
    const { git, write, read, has, workspace, transport } = setup();
    await git.init();
    write("a.txt", "one\n");
    write("dir/b.txt", "b\n");
    const first = await git.snapshot();
    write("a.txt", "two\n");
    write("c.txt", "c\n");
    const second = await git.snapshot();
    await git.restore(first); // the store's first scanned restore: HEAD becomes `first`
    expect(read("a.txt")).toBe("one\n");
    expect(has("c.txt")).toBe(false);
    // The index moves on (a recording), the workspace further (nobody records), and the target is neither HEAD nor index.
    write("a.txt", "three\n");
    rmSync(join(workspace, "dir"), { recursive: true });
    await git.snapshot();
    write("a.txt", "four\n");
    write("dir/b.txt", "rewritten\n");
    write("stray.txt", "s\n");
    const before = transport.calls.length;
    await git.restore(second);
    expect(read("a.txt")).toBe("two\n");
    expect(read("c.txt")).toBe("c\n");
    expect(read("dir/b.txt")).toBe("b\n");
    expect(has("stray.txt")).toBe(false);
    const commands = transport.calls.slice(before).map((c) => (c.args ?? []).find((a) => ["status", "add"].includes(a)));
    expect(commands).toContain("status");
    expect(commands).not.toContain("add");
    expect(await git.snapshot()).toBe(second);
  });

  it("moves the store's HEAD as git would (fsck clean); a held HEAD.lock means the plain way until the next orc clears it; a missing tree leaves HEAD usable", async () => {
    const { git, write, read, has, root, transport } = setup();
    const storeGit = (...args: string[]): string => execFileSync("git", ["--git-dir", git.storeDir, ...args], { env: isolatedEnv(root) }).toString("utf8").trim();
    await git.init();
    write("a.txt", "one\n");
    const first = await git.snapshot();
    write("a.txt", "two\n");
    write("b.txt", "b\n");
    const second = await git.snapshot();
    await git.restore(first);
    expect(read("a.txt")).toBe("one\n");
    expect(storeGit("rev-parse", "HEAD^{tree}")).toBe(first);
    expect(storeGit("cat-file", "-t", "HEAD")).toBe("commit");
    expect(storeGit("fsck", "--no-dangling", "--strict", "--no-progress")).toBe("");
    expect(existsSync(join(git.storeDir, "HEAD.lock"))).toBe(false);
    // The same tree makes the same commit: a second rollback to a checkpoint adds nothing.
    const head = storeGit("rev-parse", "HEAD");
    await git.restore(second);
    await git.restore(first);
    expect(storeGit("rev-parse", "HEAD")).toBe(head);

    // A git process moving HEAD right now: HEAD is left to it, and the restore records the workspace instead.
    writeFileSync(join(git.storeDir, "HEAD.lock"), "held\n");
    write("stray.txt", "s\n");
    const before = transport.calls.length;
    await git.restore(second);
    expect(read("a.txt")).toBe("two\n");
    expect(read("b.txt")).toBe("b\n");
    expect(has("stray.txt")).toBe(false);
    const commands = transport.calls.slice(before).map((c) => (c.args ?? []).find((a) => ["status", "add"].includes(a)));
    expect(commands).not.toContain("status");
    expect(commands).toContain("add");
    expect(readFileSync(join(git.storeDir, "HEAD.lock"), "utf8")).toBe("held\n");
    expect(storeGit("rev-parse", "HEAD")).toBe(head);

    // The lock of an orc killed while it moved HEAD: the next orc's store clears it and scans again.
    const next = new ShadowGit({ storeDir: git.storeDir, workspace: git.workspace, transport });
    await next.init();
    expect(existsSync(join(git.storeDir, "HEAD.lock"))).toBe(false);
    write("stray.txt", "s\n");
    const after = transport.calls.length;
    await next.restore(first);
    expect(has("stray.txt")).toBe(false);
    expect(transport.calls.slice(after).map((c) => (c.args ?? []).find((a) => ["status", "add"].includes(a)))).toContain("status");

    // A tree the store does not hold: the restore fails, and HEAD stays where git can use it (gc packs the store).
    await expect(next.restore("0123456789abcdef0123456789abcdef01234567")).rejects.toThrow();
    expect(storeGit("rev-parse", "HEAD^{tree}")).toBe(first);
    expect(() => storeGit("gc", "--quiet")).not.toThrow();
  });

  it("restores a recorded path that an untracked file now stands in the way of, without recording everything", async () => {
    const { git, write, read, workspace, transport } = setup();
    await git.init();
    write("keep.txt", "k\n");
    write("a/x.txt", "inside a\n");
    const older = await git.snapshot();
    rmSync(join(workspace, "a"), { recursive: true });
    await git.snapshot(); // recorded: a/ is gone
    write("a", "a file where the checkpoint has a directory\n"); // never recorded
    const before = transport.calls.length;
    await git.restore(older);
    expect(read("a/x.txt")).toBe("inside a\n");
    expect(transport.calls.slice(before).some((c) => (c.args ?? []).includes("add"))).toBe(false);
    expect(await git.snapshot()).toBe(older);
  });

  it("never runs a program a nested repository's config names while it restores", async () => {
    const { root, git, write, workspace } = setup();
    await git.init();
    write("top.txt", "t\n");
    write("vendor/lib/file.txt", "f\n");
    const nested = join(workspace, "vendor/lib");
    const inNested = (...args: string[]): void => void execFileSync("git", ["-C", nested, ...args], { env: isolatedEnv(root) });
    inNested("init", "-q");
    inNested("add", "file.txt");
    inNested("commit", "-qm", "one");
    const tree = await git.snapshot();
    const marker = join(root, "ran");
    inNested("config", "core.fsmonitor", `touch ${marker}; false`);
    write("vendor/lib/file.txt", "edited inside\n");
    write("top.txt", "changed\n");
    await git.restore(tree);
    expect(readFileSync(join(workspace, "top.txt"), "utf8")).toBe("t\n");
    expect(existsSync(marker)).toBe(false);
  });

  it("restores a tracked directory that became a link to itself (git cannot look under it, so the plain way does it)", async () => {
    const { git, write, read, workspace } = setup();
    await git.init();
    write("d/f", "inside\n");
    write("top.txt", "t\n");
    const tree = await git.snapshot();
    rmSync(join(workspace, "d"), { recursive: true });
    symlinkSync("d", join(workspace, "d"));
    await git.restore(tree);
    expect(read("d/f")).toBe("inside\n");
    expect(await git.snapshot()).toBe(tree);
  });

  it("restores a file that a later checkpoint recorded as a directory, in one look", async () => {
    const { git, write, read, workspace, transport } = setup();
    await git.init();
    write("f", "a file\n");
    const older = await git.snapshot();
    rmSync(join(workspace, "f"));
    write("f/child", "in a directory\n");
    await git.snapshot();
    const before = transport.calls.length;
    await git.restore(older);
    expect(read("f")).toBe("a file\n");
    expect(transport.calls.slice(before).some((c) => (c.args ?? []).includes("add"))).toBe(false);
    expect(await git.snapshot()).toBe(older);
  });

  it("removes a stray link without following it, leaving the link's target alone", async () => {
    const { root, git, write, has, workspace } = setup();
    await git.init();
    write("a.txt", "a\n");
    const tree = await git.snapshot();
    const outside = join(root, "outside");
    mkdirSync(outside);
    writeFileSync(join(outside, "precious.txt"), "mine\n");
    symlinkSync(outside, join(workspace, "link"));
    write("a.txt", "changed\n");
    await git.restore(tree);
    expect(readFileSync(join(workspace, "a.txt"), "utf8")).toBe("a\n");
    expect(has("link")).toBe(false);
    expect(readFileSync(join(outside, "precious.txt"), "utf8")).toBe("mine\n");
  });

  it("honours .gitignore and always excludes .git, .orc and the state directory", async () => {
    const { git, write, lsTree } = setup({ stateDirName: "var/orc state" });
    await git.init();
    write(".gitignore", "*.tmp\n");
    write("keep.txt", "k\n");
    write("scratch.tmp", "t\n");
    write(".orc/state.json", "{}\n");
    write("sub/.orc/x", "x\n");
    write("var/orc state/state.db", "db\n");
    write("var/other.txt", "o\n");
    expect(lsTree(await git.snapshot()).sort()).toEqual([".gitignore", "keep.txt", "var/other.txt"]);
    expect(readFileSync(join(git.storeDir, "info", "exclude"), "utf8")).toContain("/var/orc\\ state/");
  });

  it("never touches the user's .git, byte for byte", async () => {
    const { root, workspace, git, write, lsTree } = setup();
    write("README.md", "hello\n");
    write("src/index.ts", "export {};\n");
    const env = isolatedEnv(root);
    execFileSync("git", ["init", "-q"], { cwd: workspace, env });
    execFileSync("git", ["add", "-A"], { cwd: workspace, env });
    execFileSync("git", ["commit", "-q", "-m", "init"], { cwd: workspace, env });
    write(".git/info/exclude", "secret.env\n");
    write("secret.env", "TOKEN=1\n");
    const before = fingerprint(join(workspace, ".git"));

    await git.init();
    // The store takes the user's objects as links instead of hashing every file again, and borrows nothing by path.
    expect(existsSync(join(git.storeDir, "objects/info/alternates"))).toBe(false);
    const t1 = await git.snapshot();
    write("src/index.ts", "export const x = 1;\n");
    write("src/new.ts", "new\n");
    const t2 = await git.snapshot();
    await git.saveRef("runs/r1/t/1", t2);
    expect(await git.diff(t1, t2)).toHaveLength(2);
    await git.restore(t1);

    expect(fingerprint(join(workspace, ".git"))).toEqual(before);
    // The user's repository still sees its own state: the edit was rolled back, nothing staged (only orc's own dir).
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: workspace, env }).toString()).toBe("?? .orc/\n");
    const paths = lsTree(t2);
    expect(paths.some((p) => p.startsWith(".git/") || p.startsWith(".orc/"))).toBe(false);
    // Entries of the user's .git/info/exclude are honoured too.
    expect(paths).not.toContain("secret.env");

    // An agent that deletes .git takes none of the checkpoints with it.
    rmSync(join(workspace, ".git"), { recursive: true, force: true });
    await git.restore(t2);
    expect(readFileSync(join(workspace, "src/index.ts"), "utf8")).toBe("export const x = 1;\n");
    expect(await git.diff(t1, t2)).toHaveLength(2);
  });

  it("checkpoints a clone whose objects live in another repository (clone --shared) from an empty store", async () => {
    const { root, workspace, git, write, lsTree } = setup();
    const env = isolatedEnv(root);
    const origin = join(root, "origin");
    mkdirSync(origin);
    writeFileSync(join(origin, "kept.txt"), "from origin\n");
    execFileSync("git", ["init", "-q"], { cwd: origin, env });
    execFileSync("git", ["add", "-A"], { cwd: origin, env });
    execFileSync("git", ["commit", "-q", "-m", "origin"], { cwd: origin, env });
    rmSync(workspace, { recursive: true, force: true });
    execFileSync("git", ["clone", "-q", "--shared", origin, workspace], { env });
    write("new.txt", "mine\n");
    await git.init();
    expect(lsTree(await git.snapshot())).toEqual(["kept.txt", "new.txt"]);
  });

  it("records only the paths it is told changed (and what lies under them), as a whole add would", async () => {
    const { git, write, lsTree, transport, workspace } = setup();
    await git.init();
    write(".gitignore", "*.log\n");
    write("a/one.ts", "1\n");
    write("a/two.ts", "2\n");
    write("b/keep.ts", "k\n");
    write("b/deep/more.ts", "m\n");
    write("exec.sh", "echo\n");
    const base = await git.snapshot();

    write("a/one.ts", "1, edited\n");
    rmSync(join(workspace, "a/two.ts"));
    renameSync(join(workspace, "b"), join(workspace, "b2"));
    chmodSync(join(workspace, "exec.sh"), 0o755);
    write("c d/new ü.ts", "new\n");
    write("c d/debug.log", "ignored\n");
    symlinkSync("a/one.ts", join(workspace, "link"));
    write("untold.ts", "not reported\n");
    const calls = transport.calls.length;
    const partial = await git.snapshot(["a/one.ts", "a/two.ts", "b", "b2", "c d", "exec.sh", "link"]);
    expect(transport.calls.slice(calls).some((c) => c.args?.includes("add"))).toBe(false);
    expect(lsTree(partial)).toEqual([".gitignore", "a/one.ts", "b2/deep/more.ts", "b2/keep.ts", "c d/new ü.ts", "exec.sh", "link"]);
    expect((await git.diff(base, partial)).map((f) => `${f.status} ${f.path}`)).toEqual([
      "modified a/one.ts",
      "deleted a/two.ts",
      "deleted b/deep/more.ts",
      "deleted b/keep.ts",
      "added b2/deep/more.ts",
      "added b2/keep.ts",
      "added c d/new ü.ts",
      "modified exec.sh",
      "added link",
    ]);
    // Told nothing, it records nothing new; told everything, it is what a whole add records.
    expect(await git.snapshot([])).toBe(partial);
    const full = await git.snapshot();
    expect(lsTree(full)).toContain("untold.ts");
    rmSync(join(workspace, "untold.ts"));
    expect(await git.snapshot(["untold.ts"])).toBe(partial);
  });

  it("falls back to a whole add where an update by path cannot cope", async () => {
    const { root, git, write, lsTree, workspace } = setup();
    await git.init();
    write("a/file", "f\n");
    write("keep.ts", "k\n");
    await git.snapshot();
    rmSync(join(workspace, "a/file"));
    write("a/file/inner.ts", "a file became a directory\n");
    expect(lsTree(await git.snapshot(["a/file"]))).toEqual(["a/file/inner.ts", "keep.ts"]);
    write("vendor/lib/file.txt", "f\n");
    execFileSync("git", ["init", "-q", join(workspace, "vendor/lib")], { env: isolatedEnv(root) });
    write("vendor/top.txt", "t\n");
    // A nested repository without a commit is left out, as a whole add leaves it out.
    expect(lsTree(await git.snapshot(["vendor"]))).toEqual(["a/file/inner.ts", "keep.ts", "vendor/top.txt"]);
  });

  it("keeps the checkpoint before an attempt reachable from the one after it, attempts in a row as a history", async () => {
    const { git, write } = setup();
    await git.init();
    write("f.txt", "1\n");
    const before = await git.snapshot();
    write("f.txt", "2\n");
    const after = await git.snapshot();
    await git.saveRef("runs/r/t/1", after, before);
    expect(await git.readRef("runs/r/t/1")).toBe(after);
    const revParse = (rev: string): string => execFileSync("git", ["--git-dir", git.storeDir, "rev-parse", rev], { env: isolatedEnv(tmpdir()) }).toString().trim();
    expect(revParse("refs/orc/runs/r/t/1^^{tree}")).toBe(before);
    // The next attempt starts where this one ended: its commit follows this one, a history of the task.
    write("f.txt", "3\n");
    const first = await git.saveRef("runs/r/t/2", await git.snapshot(), after);
    expect(revParse("refs/orc/runs/r/t/2^")).toBe(revParse("refs/orc/runs/r/t/1"));
    expect(revParse("refs/orc/runs/r/t/2")).toBe(first);
  });

  it("checkpoints paths that would mean something to a shell as plain names", async () => {
    const { git, write, lsTree } = setup();
    await git.init();
    write("$(touch pwned)/b.txt", "b\n");
    expect(lsTree(await git.snapshot())).toEqual(["$(touch pwned)/b.txt"]);
    expect(existsSync(join(git.workspace, "pwned"))).toBe(false);
  });

  it("copes with a nested repository an agent created with git init", async () => {
    const { root, git, write, lsTree } = setup();
    await git.init();
    write("top.txt", "t\n");
    write("vendor/lib/file.txt", "f\n");
    execFileSync("git", ["init", "-q", join(git.workspace, "vendor/lib")], { env: isolatedEnv(root) });
    const tree = await git.snapshot();
    expect(lsTree(tree)).toEqual(["top.txt"]);
    write("top.txt", "changed\n");
    await git.restore(tree);
    expect(readFileSync(join(git.workspace, "top.txt"), "utf8")).toBe("t\n");
    expect(readFileSync(join(git.workspace, "vendor/lib/file.txt"), "utf8")).toBe("f\n");
  });

  it("saves refs that keep the tree reachable", async () => {
    const { git, write } = setup();
    await git.init();
    write("f.txt", "1\n");
    const tree = await git.snapshot();
    const name = "runs/r-1/task one/2";
    const commit = await git.saveRef(name, tree);
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await git.readRef(name)).toBe(tree);
    expect(await git.readRef("runs/r-1/none")).toBeUndefined();
    const refs = execFileSync("git", ["--git-dir", git.storeDir, "for-each-ref", "--format=%(refname) %(objectname)"], {
      env: isolatedEnv(tmpdir()),
    }).toString();
    expect(refs.trim()).toBe(`refs/orc/runs/r-1/task%20one/2 ${commit}`);
  });

  it("serialises concurrent operations (no index.lock collisions)", async () => {
    const { git, write, transport } = setup();
    await git.init();
    write("a.txt", "a\n");
    const results = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        write(`f${i}.txt`, `${i}\n`);
        return git.snapshot();
      }),
    );
    expect(results.every((t) => /^[0-9a-f]{40}$/.test(t))).toBe(true);
    expect(transport.maxRunning).toBe(1);
  });

  it("runs git isolated from the user's configuration and environment", async () => {
    const { git, transport, workspace, stateDir } = setup();
    const saved = { GIT_DIR: process.env.GIT_DIR, GIT_INDEX_FILE: process.env.GIT_INDEX_FILE };
    process.env.GIT_DIR = "/nonexistent/.git";
    process.env.GIT_INDEX_FILE = "/nonexistent/index";
    try {
      await git.init();
      await git.snapshot();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
    }
    for (const call of transport.calls) {
      expect(call.command).toBe("git");
      expect(call.args?.slice(0, 4)).toEqual(["--git-dir", join(stateDir, "checkpoints.git"), "--work-tree", workspace]);
      expect(call.cwd).toBe(workspace);
      expect(call.env).toMatchObject({ GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "orc" });
      expect(call.env.GIT_DIR).toBeUndefined();
      expect(call.env.GIT_INDEX_FILE).toBeUndefined();
      expect(call.env.HOME).not.toBe(process.env.HOME);
    }
    // No hooks or samples copied into the store.
    expect(existsSync(join(git.storeDir, "hooks"))).toBe(false);
  });

  it("recovers from an index.lock left by a crash at init", async () => {
    const { git, write } = setup();
    await git.init();
    write("a.txt", "a\n");
    writeFileSync(join(git.storeDir, "index.lock"), "");
    await expect(git.snapshot()).rejects.toThrow(/index\.lock/);
    await git.init();
    await expect(git.snapshot()).resolves.toMatch(/^[0-9a-f]{40}$/);
  });

  it("reports git failures with git's stderr", async () => {
    const { git } = setup();
    await git.init();
    const missing = "0123456789abcdef0123456789abcdef01234567";
    const failure = git.diff(EMPTY_TREE, missing);
    await expect(failure).rejects.toBeInstanceOf(GitError);
    await expect(failure).rejects.toThrow(/git diff-tree failed \(exit 128\): .*(bad object|not a tree|0123456789abcdef)/s);
    await expect(git.restore("--hard")).rejects.toThrow(/not a git object id/);
    // The queue keeps going after a failure.
    await expect(git.snapshot()).resolves.toBe(EMPTY_TREE);
  });

  it("reports a workspace that does not exist", async () => {
    const { git, root } = setup();
    await git.init();
    rmSync(join(root, "ws"), { recursive: true, force: true });
    await expect(git.snapshot()).rejects.toThrow();
  });
});

describe("helpers", () => {
  it("parses diff-tree output with binary files and NUL-separated names", () => {
    const raw =
      ":100644 100644 aaa bbb M\0a b.txt\0:000000 100644 000 ccc A\0bin\0:100644 000000 ddd 000 D\0gone\0" +
      "3\t1\ta b.txt\0-\t-\tbin\0" +
      "0\t4\tgone\0";
    expect(parseDiff(raw)).toEqual([
      { path: "a b.txt", status: "modified", added: 3, removed: 1, binary: false },
      { path: "bin", status: "added", added: 0, removed: 0, binary: true },
      { path: "gone", status: "deleted", added: 0, removed: 4, binary: false },
    ]);
    expect(parseDiff("")).toEqual([]);
  });

  it("escapes names git would refuse as refs", () => {
    expect(refName("runs/r-1/task/2")).toBe("runs/r-1/task/2");
    expect(refName("a b/.hidden/x..y/z.lock/end.")).toBe("a%20b/%2Ehidden/x.%2Ey/z%2Elock/end%2E");
    expect(refName("ü:~^?*[\\")).toBe("%C3%BC%3A%7E%5E%3F%2A%5B%5C");
    expect(() => refName("//")).toThrow();
  });
});
