import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InotifyWatcher, type InotifyWatcherOptions } from "../src/watch/inotify-watcher.js";
import { LiveWatcher, type LiveWatcherOptions } from "../src/watch/live-watcher.js";
import { startLive } from "../src/workspace/change-sources.js";
import { ChangeWatcher } from "../src/watch/snapshot-watcher.js";

const dirs: string[] = [];
const watchers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const watcher of watchers.splice(0)) await watcher.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(options: { snapshotInside?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), "orc-watch-test-"));
  dirs.push(root);
  const workspace = join(root, "ws");
  mkdirSync(workspace);
  const stateDir = join(workspace, "state");
  const snapshotFile = options.snapshotInside === true ? join(workspace, "cache", "watch.snapshot") : join(root, "snap", "watch.snapshot");
  const watcher = new ChangeWatcher({ workspace, snapshotFile, ignore: [stateDir] });
  const write = (path: string, content: string): void => {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), content);
  };
  return { root, workspace, stateDir, watcher, write };
}

describe("ChangeWatcher", () => {
  it("answers unknown before the first mark", async () => {
    const { watcher } = setup();
    expect(await watcher.changedSince()).toBeUndefined();
  });

  it("sees nothing when nothing changed", async () => {
    const { watcher, write } = setup();
    write("a.txt", "a");
    await watcher.mark();
    expect(await watcher.changedSince()).toEqual([]);
    expect(await watcher.changedSince()).toEqual([]);
  });

  it("detects created, modified and deleted files as sorted relative paths", async () => {
    const { watcher, write, workspace } = setup();
    write("src/keep.ts", "keep");
    write("src/edit.ts", "one");
    write("gone.txt", "bye");
    await watcher.mark();
    write("src/edit.ts", "two, longer");
    rmSync(join(workspace, "gone.txt"));
    write("src/deep/new file.ts", "new");
    expect(await watcher.changedSince()).toEqual(["gone.txt", "src/deep", "src/deep/new file.ts", "src/edit.ts"]);
    await watcher.mark();
    expect(await watcher.changedSince()).toEqual([]);
  });

  it("detects a same-size rewrite right after mark (within the same second)", async () => {
    const { watcher, write } = setup();
    for (let i = 0; i < 20; i++) {
      write("f.txt", `v${i % 10}-a`);
      await watcher.mark();
      write("f.txt", `v${i % 10}-b`);
      expect(await watcher.changedSince(), `round ${i}`).toEqual(["f.txt"]);
    }
  });

  it("ignores .git, .orc, node_modules at any depth, the configured paths and its own snapshot", async () => {
    const { watcher, write } = setup({ snapshotInside: true });
    write(".git/HEAD", "ref");
    write(".orc/state.db", "db");
    write("node_modules/x/index.js", "x");
    write("packages/p/node_modules/y/index.js", "y");
    write("state/checkpoints.git/HEAD", "h");
    await watcher.mark();
    write(".git/HEAD", "ref2");
    write(".orc/state.db", "db2");
    write("node_modules/x/index.js", "x2");
    write("packages/p/node_modules/y/index.js", "y2");
    write("state/checkpoints.git/HEAD", "h2");
    write("state/new", "n");
    write("packages/p/node_modules/z/new.js", "z");
    write("packages/p/.git/HEAD", "sub");
    write("packages/p/.orc/x", "x");
    expect(await watcher.changedSince()).toEqual([]);
    await watcher.mark(); // rewrites cache/watch.snapshot inside the workspace
    expect(await watcher.changedSince()).toEqual([]);
    write("packages/p/node_modules_not/a.js", "a");
    write("packages/p/x.orc", "x");
    expect(await watcher.changedSince()).toEqual(["packages/p/node_modules_not", "packages/p/node_modules_not/a.js", "packages/p/x.orc"]);
    await watcher.mark();
    write("packages/p/src.ts", "s");
    expect(await watcher.changedSince()).toEqual(["packages/p/src.ts"]);
  });

  it("answers unknown after a failed mark or when the workspace is gone", async () => {
    const { watcher, workspace, write } = setup();
    write("a.txt", "a");
    await watcher.mark();
    rmSync(workspace, { recursive: true, force: true });
    expect(await watcher.changedSince()).toBeUndefined();
    await expect(watcher.mark()).rejects.toThrow();
    mkdirSync(workspace);
    expect(await watcher.changedSince()).toBeUndefined();
  });
});

describe("LiveWatcher", () => {
  async function live(options: Partial<LiveWatcherOptions> = {}) {
    const { root, workspace, stateDir, write } = setup();
    for (const path of [".git/HEAD", ".orc/state.db", "node_modules/x/index.js", "packages/p/node_modules/y/index.js", "state/checkpoints.git/HEAD"]) write(path, "0");
    write("src/keep.ts", "keep");
    write("src/edit.ts", "one");
    write("gone.txt", "bye");
    write("run.sh", "echo");
    write("old name.md", "old");
    const watcher = await LiveWatcher.start({ workspace, ignore: [stateDir], ...options });
    watchers.push(watcher);
    return { root, workspace, write, watcher };
  }

  it("lists every path changed since the last take, chmod included, once the changes are in", async () => {
    const { workspace, write, watcher } = await live();
    expect(await watcher.take()).toEqual([]);
    write("src/edit.ts", "two");
    rmSync(join(workspace, "gone.txt"));
    chmodSync(join(workspace, "run.sh"), 0o755);
    renameSync(join(workspace, "old name.md"), join(workspace, "new name.md"));
    write("src/new.ts", "new");
    // Taken at once: the sync point waits for events parcel still holds back.
    expect(await watcher.take()).toEqual(["gone.txt", "new name.md", "old name.md", "run.sh", "src/edit.ts", "src/new.ts"]);
    expect(await watcher.take()).toEqual([]);
    // Between two takes (no attempt running) changes are still collected.
    write("src/keep.ts", "kept");
    await new Promise((done) => setTimeout(done, 600)); // delivered meanwhile, with no take() waiting
    expect(await watcher.take()).toEqual(["src/keep.ts"]);
    expect(statSync(workspace).mode & 0o777).toBe(0o755); // the sync point left the directory's mode as it was
  });

  it("ignores .git, .orc and node_modules at any depth, and the given paths", async () => {
    const { write, watcher } = await live();
    write(".git/HEAD", "ref");
    write(".orc/state.db", "db");
    write("node_modules/x/index.js", "x");
    write("packages/p/node_modules/y/index.js", "y");
    write("packages/p/node_modules/z/new.js", "z");
    write("state/checkpoints.git/HEAD", "h");
    write("state/new", "n");
    expect(await watcher.take()).toEqual([]);
    write("packages/p/node_modules_not/a.js", "a");
    expect(await watcher.take()).toEqual(expect.arrayContaining(["packages/p/node_modules_not"]));
  });

  it("gives up once when a directory tree is moved in, then watches inside it", async () => {
    const { root, workspace, write, watcher } = await live();
    mkdirSync(join(root, "elsewhere/lib/sub"), { recursive: true });
    writeFileSync(join(root, "elsewhere/lib/sub/b.ts"), "b");
    renameSync(join(root, "elsewhere"), join(workspace, "vendor"));
    // parcel watches "vendor" but not what came with it: the list could not be trusted.
    expect(await watcher.take()).toBeUndefined();
    write("vendor/lib/sub/b.ts", "b, edited");
    expect(await watcher.take()).toEqual(["vendor/lib/sub/b.ts"]);
  });

  it("gives up on a burst that may have overflowed the kernel's queue, and starts afresh", async () => {
    const { write, watcher } = await live({ maxPaths: 5 });
    for (let i = 0; i < 6; i++) write(`src/burst${String(i)}.ts`, "x");
    expect(await watcher.take()).toBeUndefined();
    expect(await watcher.take()).toEqual([]);
    write("src/edit.ts", "after");
    expect(await watcher.take()).toEqual(["src/edit.ts"]);
  });

  it("answers undefined once closed", async () => {
    const { watcher } = await live();
    await watcher.close();
    expect(await watcher.take()).toBeUndefined();
  });
});

describe("InotifyWatcher (orc's own watches, real inotify)", () => {
  async function inotify(options: Partial<InotifyWatcherOptions> = {}) {
    const { root, workspace, stateDir, write } = setup();
    for (const path of [".git/HEAD", ".orc/state.db", "node_modules/x/index.js", "packages/p/node_modules/y/index.js", "state/checkpoints.git/HEAD"]) write(path, "0");
    write("src/keep.ts", "keep");
    write("src/edit.ts", "one");
    write("gone.txt", "bye");
    write("run.sh", "echo");
    write("old name.md", "old");
    write("lib/deep/er/x.ts", "x");
    const watcher = await InotifyWatcher.start({ workspace, ignore: [stateDir], syncDir: join(root, "sync"), ...options });
    watchers.push(watcher);
    return { root, workspace, write, watcher };
  }

  it("lists every path changed since the last take, chmod included, with no wait for a debounce", async () => {
    const { workspace, write, watcher } = await inotify();
    expect(await watcher.take()).toEqual([]);
    write("src/edit.ts", "two");
    rmSync(join(workspace, "gone.txt"));
    chmodSync(join(workspace, "run.sh"), 0o755);
    renameSync(join(workspace, "old name.md"), join(workspace, "new name.md"));
    write("src/new.ts", "new");
    write("lib/deep/er/x.ts", "x2");
    expect(await watcher.take()).toEqual(["gone.txt", "lib/deep/er/x.ts", "new name.md", "old name.md", "run.sh", "src/edit.ts", "src/new.ts"]);
    expect(await watcher.take()).toEqual([]);
    write("src/keep.ts", "kept");
    await new Promise((done) => setTimeout(done, 100)); // delivered with no take() waiting
    expect(await watcher.take()).toEqual(["src/keep.ts"]);
  });

  it("watches a new directory at once: files written right after mkdir are covered, later ones reported by name", async () => {
    const { workspace, write, watcher } = await inotify();
    mkdirSync(join(workspace, "fresh/a/b"), { recursive: true });
    writeFileSync(join(workspace, "fresh/a/b/first.ts"), "1"); // before any watch on fresh/a/b can exist
    const first = await watcher.take();
    expect(first).toEqual(["fresh"]); // "fresh and everything under it"
    write("fresh/a/b/second.ts", "2");
    write("fresh/a/third.ts", "3");
    expect(await watcher.take()).toEqual(["fresh/a/b/second.ts", "fresh/a/third.ts"]);
  });

  it("follows a directory renamed inside the workspace and one moved in from outside", async () => {
    const { root, workspace, write, watcher } = await inotify();
    renameSync(join(workspace, "lib"), join(workspace, "library"));
    expect(await watcher.take()).toEqual(["lib", "library"]);
    write("library/deep/er/x.ts", "moved");
    write("library/deep/y.ts", "y");
    // The new names, not the old ones a watch following the inode would report.
    expect(await watcher.take()).toEqual(["library/deep/er/x.ts", "library/deep/y.ts"]);
    mkdirSync(join(root, "elsewhere/lib/sub"), { recursive: true });
    writeFileSync(join(root, "elsewhere/lib/sub/b.ts"), "b");
    renameSync(join(root, "elsewhere"), join(workspace, "vendor"));
    expect(await watcher.take()).toEqual(["vendor"]);
    write("vendor/lib/sub/b.ts", "b, edited");
    expect(await watcher.take()).toEqual(["vendor/lib/sub/b.ts"]);
  });

  it("reports a deleted directory and watches a new one made under the same name", async () => {
    const { workspace, write, watcher } = await inotify();
    rmSync(join(workspace, "lib"), { recursive: true });
    const taken = await watcher.take();
    expect(taken).toEqual(expect.arrayContaining(["lib", "lib/deep", "lib/deep/er", "lib/deep/er/x.ts"]));
    mkdirSync(join(workspace, "lib/deep"), { recursive: true });
    expect(await watcher.take()).toEqual(["lib"]);
    write("lib/deep/z.ts", "z");
    expect(await watcher.take()).toEqual(["lib/deep/z.ts"]);
  });

  it("ignores .git, .orc and node_modules at any depth, and the given paths", async () => {
    const { write, watcher } = await inotify();
    write(".git/HEAD", "ref");
    write(".orc/state.db", "db");
    write("node_modules/x/index.js", "x");
    write("packages/p/node_modules/y/index.js", "y");
    write("packages/p/node_modules/z/new.js", "z");
    write("state/checkpoints.git/HEAD", "h");
    write("state/new", "n");
    expect(await watcher.take()).toEqual([]);
    write("packages/p/node_modules_not/a.js", "a");
    expect(await watcher.take()).toEqual(["packages/p/node_modules_not"]);
  });

  it("keeps every one of many changes across many directories", async () => {
    const { write, watcher } = await inotify();
    const expected: string[] = [];
    for (let d = 0; d < 40; d++) for (let f = 0; f < 50; f++) write(`many/d${String(d)}/f${String(f)}.ts`, "0");
    await watcher.take();
    for (let d = 0; d < 40; d++) {
      for (let f = 0; f < 50; f += 7) {
        write(`many/d${String(d)}/f${String(f)}.ts`, "1");
        expected.push(`many/d${String(d)}/f${String(f)}.ts`);
      }
    }
    expect(await watcher.take()).toEqual(expected.sort());
  });

  it("gives up on a burst that may have overflowed the kernel's queue, and starts afresh", async () => {
    const { write, watcher } = await inotify({ maxQueuedEvents: 20 });
    for (let i = 0; i < 12; i++) write(`src/burst${String(i)}.ts`, "x");
    expect(await watcher.take()).toBeUndefined();
    expect(await watcher.take()).toEqual([]);
    write("src/edit.ts", "after");
    expect(await watcher.take()).toEqual(["src/edit.ts"]);
  });

  it("falls back to a whole recording after a real overflow of the kernel's queue, then lists again", async () => {
    const { workspace, write, watcher } = await inotify();
    mkdirSync(join(workspace, "flood"));
    expect(await watcher.take()).toEqual(["flood"]);
    // Written without yielding, so nothing reads the queue meanwhile: two events a file, well past
    // fs.inotify.max_queued_events (16,384 by default); the kernel drops the rest, and libuv drops its overflow event.
    const files = Math.ceil(Number(readFileSync("/proc/sys/fs/inotify/max_queued_events", "utf8")) / 2) + 2000;
    for (let i = 0; i < files; i++) writeFileSync(join(workspace, "flood", `f${String(i)}`), "x");
    expect(await watcher.take()).toBeUndefined();
    write("src/edit.ts", "after the flood");
    expect(await watcher.take()).toEqual(["src/edit.ts"]);
  });

  it("answers undefined once closed, and removes its sync directory", async () => {
    const { root, watcher } = await inotify();
    await watcher.close();
    expect(await watcher.take()).toBeUndefined();
    expect(() => statSync(join(root, "sync"))).toThrow();
  });

  it("is replaced by @parcel/watcher when it cannot start", async () => {
    const { workspace, stateDir, write } = setup();
    // A sync directory that cannot be made (under a file): orc's watches do not start, parcel's do.
    writeFileSync(join(workspace, "..", "a-file"), "");
    write("src/a.ts", "a");
    const live = await startLive({ workspace, ignore: [stateDir], syncDir: join(workspace, "..", "a-file", "sync") });
    watchers.push(live);
    expect(live).toBeInstanceOf(LiveWatcher);
    write("src/a.ts", "a, edited");
    expect(await live.take()).toEqual(["src/a.ts"]);
  });
});
