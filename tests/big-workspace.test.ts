// LocalWorkspace on a real git repository of 2,000 files (on tmpfs): what an attempt changed, recorded through the
// live subscription's paths and through the fallbacks, compared with what a plain `git add --all` records.
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FileChange } from "../src/core/events.js";
import { checkpointStoreSize } from "../src/workspace/housekeeping.js";
import { LocalWorkspace, type LocalWorkspaceOptions } from "../src/workspace/local.js";
import { CountingTransport, fingerprint, plainTree, scratchDir, userGit, userRepository, writeFile } from "./helpers/git-workspace.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
});

function setup(options: Partial<LocalWorkspaceOptions> = {}) {
  const root = scratchDir("orc-big-test-");
  cleanup.push(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const ws = join(root, "ws");
  userRepository(ws, 20, 100);
  const stateDir = join(ws, ".orc");
  const transport = new CountingTransport();
  const open = async (): Promise<LocalWorkspace> => {
    const workspace = await LocalWorkspace.open({ dir: ws, stateDir, runId: "r1", transport, exclusive: true, ...options });
    cleanup.push(() => workspace.close());
    return workspace;
  };
  return { root, ws, stateDir, transport, open };
}

/** What no checkpoint records: git's and orc's own directories, node_modules, and what .gitignore names. */
function unrecorded(path: string): boolean {
  return /(^|\/)(\.git|\.orc|node_modules|dist)(\/|$)/.test(path) || path.endsWith(".log");
}

function summary(files: readonly FileChange[]): string[] {
  return files.map((f) => `${f.status} ${f.path}`);
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "").sort();
}

/** `git`'s subcommand in a recorded command line (after the options that take a value). */
function subcommand(command: readonly string[]): string | undefined {
  for (let i = 1; i < command.length; i++) {
    const arg = command[i] ?? "";
    if (arg === "-c" || arg === "--git-dir" || arg === "--work-tree") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** An agent's work: edits, a deletion, a chmod, renames, new files, a directory removed and one renamed, ignored output. */
function agentWork(ws: string): void {
  writeFile(ws, "d00/f0.ts", "export const v = 'edited';\n");
  rmSync(join(ws, "d00/f1.ts"));
  chmodSync(join(ws, "d00/f2.ts"), 0o755);
  renameSync(join(ws, "d01/f0.ts"), join(ws, "d01/renamed.ts"));
  writeFile(ws, "d02/untracked.ts", "new\n");
  writeFile(ws, "top level.md", "spaces and ü\n");
  rmSync(join(ws, "d03"), { recursive: true });
  renameSync(join(ws, "d04"), join(ws, "d04-moved"));
  writeFile(ws, "dist/bundle.js", "ignored\n");
  writeFile(ws, "d05/debug.log", "ignored\n");
  writeFile(ws, "node_modules/pkg/index.js", "orc's ignores\n");
  writeFile(ws, "d06/node_modules/x.js", "orc's ignores\n");
}

const AGENT_CHANGES = [
  "modified d00/f0.ts",
  "deleted d00/f1.ts",
  "modified d00/f2.ts",
  "deleted d01/f0.ts",
  "added d01/renamed.ts",
  "added d02/untracked.ts",
  ...range(100).map((i) => `deleted d03/f${String(i)}.ts`),
  ...range(100).map((i) => `deleted d04/f${String(i)}.ts`),
  ...range(100).map((i) => `added d04-moved/f${String(i)}.ts`),
  "added top level.md",
].sort((a, b) => (a.slice(a.indexOf(" ") + 1) < b.slice(b.indexOf(" ") + 1) ? -1 : 1));

const MODES: { name: string; options: Partial<LocalWorkspaceOptions> }[] = [
  { name: "the live subscription's paths", options: { liveFrom: 0 } },
  { name: "an mtime snapshot and git recording everything", options: { liveFrom: Number.POSITIVE_INFINITY } },
  { name: "git recording everything each time (attempts side by side)", options: { liveFrom: Number.POSITIVE_INFINITY, exclusive: false } },
];

describe.each(MODES)("LocalWorkspace through $name", ({ options }) => {
  it("records exactly what each attempt changed, sees changes made between attempts, and rolls back byte for byte", async () => {
    const { root, ws, stateDir, open } = setup(options);
    const workspace = await open();
    const before = await workspace.checkpointBefore();
    const start = fingerprint(ws, unrecorded);

    agentWork(ws);
    const first = await workspace.changesSince(before, { task: "t", attempt: 1 });
    expect(summary(first.files)).toEqual(AGENT_CHANGES);
    expect(first.files.find((f) => f.path === "d00/f0.ts")).toMatchObject({ added: 1, removed: 1 });
    expect(first.checkpoint).toBe(await plainTree(ws, stateDir));

    // Between attempts a gate rewrites a file and the user moves a directory tree in from elsewhere.
    writeFile(ws, "d07/f0.ts", "export const v = 'formatted';\n");
    writeFile(root, "elsewhere/lib/sub/b.ts", "b\n");
    renameSync(join(root, "elsewhere"), join(ws, "vendor"));
    const second = await workspace.checkpointBefore();
    expect(second).toBe(await plainTree(ws, stateDir));

    // Nested directories made at once, a file replaced by a directory, an edit inside the moved-in tree.
    writeFile(ws, "new/deep/er/file.ts", "new\n");
    rmSync(join(ws, "d05/f0.ts"));
    writeFile(ws, "d05/f0.ts/inner.ts", "inner\n");
    writeFile(ws, "vendor/lib/sub/b.ts", "b, edited\n");
    const changes = await workspace.changesSince(second, { task: "t", attempt: 2 });
    expect(summary(changes.files)).toEqual(["deleted d05/f0.ts", "added d05/f0.ts/inner.ts", "added new/deep/er/file.ts", "modified vendor/lib/sub/b.ts"]);
    expect(changes.checkpoint).toBe(await plainTree(ws, stateDir));

    // Changes deep inside the directories that appeared are seen too.
    const third = await workspace.checkpointBefore();
    expect(third).toBe(changes.checkpoint);
    writeFile(ws, "new/deep/er/file.ts", "new, edited\n");
    writeFile(ws, "vendor/lib/sub/b.ts", "b, edited again\n");
    writeFile(ws, "d05/f0.ts/inner.ts", "inner, edited\n");
    const again = await workspace.changesSince(third, { task: "t", attempt: 3 });
    expect(summary(again.files)).toEqual(["modified d05/f0.ts/inner.ts", "modified new/deep/er/file.ts", "modified vendor/lib/sub/b.ts"]);

    await workspace.restore(before);
    expect(fingerprint(ws, unrecorded)).toEqual(start);
    expect(existsSync(join(ws, "dist/bundle.js"))).toBe(true); // ignored files are not orc's to delete
    expect(await workspace.checkpointBefore()).toBe(before);
    const none = await workspace.changesSince(before, { task: "t", attempt: 4 });
    expect(none.files).toEqual([]);
  });

  it("costs no git process for an attempt that changed nothing", async () => {
    const { transport, open } = setup(options);
    const workspace = await open();
    await workspace.checkpointBefore();
    // A big workspace's subscription starts after the first checkpoint; the first recording once it is live is whole.
    await workspace.checkpointBefore();
    const started = transport.commands.length;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const before = await workspace.checkpointBefore();
      const changes = await workspace.changesSince(before, { task: "t", attempt });
      expect(changes).toEqual({ files: [], linesChanged: 0, checkpoint: before });
    }
    const expected = options.exclusive === false ? 6 * 2 : 0; // side by side: add --all and write-tree each time
    expect(transport.commands.length - started).toBe(expected);
  });
});

describe("LocalWorkspace in a big workspace", () => {
  it("updates only the reported paths after an attempt, never walking the whole workspace", async () => {
    // 2,000 files, over the threshold: the store's index counts them.
    const { ws, stateDir, transport, open } = setup({ liveFrom: 1000 });
    const workspace = await open();
    await workspace.checkpointBefore();
    const before = await workspace.checkpointBefore(); // the subscription is live from here on
    const started = transport.commands.length;
    for (let i = 0; i < 9; i++) writeFile(ws, `d${String(10 + i)}/f${String(i)}.ts`, `// attempt 1\n`);
    writeFile(ws, "d19/new.ts", "new\n");
    const changes = await workspace.changesSince(before, { task: "t", attempt: 1 });
    expect(changes.files).toHaveLength(10);
    expect(changes.checkpoint).toBe(await plainTree(ws, stateDir));
    const subcommands = transport.commands.slice(started).map(subcommand);
    expect(subcommands).not.toContain("add");
    expect(subcommands).toContain("update-index");
  });

  it("starts a new store from the user's index and objects, records what a plain add records, and leaves .git as it was", async () => {
    const { ws, stateDir, open } = setup({ liveFrom: 0 });
    // A user mid-work: a staged edit, an unstaged one, a deletion, an untracked file, a file in .git/info/exclude.
    writeFile(ws, "d00/f0.ts", "staged\n");
    userGit(ws, ["add", "d00/f0.ts"]);
    writeFile(ws, "d00/f1.ts", "unstaged\n");
    rmSync(join(ws, "d00/f2.ts"));
    writeFile(ws, "notes.txt", "untracked\n");
    writeFile(ws, ".git/info/exclude", "secret.env\n");
    writeFile(ws, "secret.env", "TOKEN=1\n");
    const userStatus = userGit(ws, ["status", "--porcelain"]);
    const dotGit = fingerprint(join(ws, ".git"));

    const workspace = await open();
    const before = await workspace.checkpointBefore();
    expect(before).toBe(await plainTree(ws, stateDir));
    expect(existsSync(join(stateDir, "checkpoints.git/objects/info/alternates"))).toBe(false);
    // The user's objects are linked, not hashed again: the store's own bytes are far less than the 2,000 files.
    expect(await workspace.storeSize()).toBeLessThan(1024 * 1024);
    expect(await checkpointStoreSize(stateDir)).toBe(await workspace.storeSize());

    writeFile(ws, "d01/f1.ts", "agent\n");
    writeFile(ws, "d01/new.ts", "agent\n");
    const changes = await workspace.changesSince(before, { task: "t", attempt: 1 });
    expect(summary(changes.files)).toEqual(["modified d01/f1.ts", "added d01/new.ts"]);
    expect(await workspace.patch(before, changes.checkpoint, ["d01/f1.ts"])).toContain("+agent");
    await workspace.restore(before);
    await workspace.close();

    expect(fingerprint(join(ws, ".git"))).toEqual(dotGit);
    // The user's git sees its own state, plus orc's state directory.
    expect(lines(userGit(ws, ["status", "--porcelain"]))).toEqual([...lines(userStatus), "?? .orc/"].sort());
  });

  it.each([
    [
      "converts content through attributes (Git LFS)",
      (ws: string) => {
        writeFile(ws, ".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n");
      },
    ],
    [
      "has entries git skips (a sparse checkout)",
      (ws: string) => {
        userGit(ws, ["update-index", "--skip-worktree", "d00/f0.ts"]);
      },
    ],
  ])("starts from an empty store when the user's repository %s, and still records what a plain add records", async (_, prepare) => {
    const { ws, stateDir, open } = setup();
    prepare(ws);
    writeFile(ws, "d00/f0.ts", "changed under a skip-worktree bit\n");
    const workspace = await open();
    expect(await workspace.checkpointBefore()).toBe(await plainTree(ws, stateDir));
    expect(existsSync(join(stateDir, "checkpoints.git/objects/info/alternates"))).toBe(false);
  });

  it("packs the store between attempts once loose objects pile up, keeping every checkpoint", async () => {
    const { ws, stateDir, open } = setup();
    const workspace = await open();
    const before = await workspace.checkpointBefore();
    // 12,000 new files: their blobs land loose in the store (git's gc.auto counts 6,700).
    for (let d = 0; d < 60; d++) mkdirSync(join(ws, `gen${String(d)}`));
    for (let i = 0; i < 12_000; i++) writeFile(ws, `gen${String(i % 60)}/g${String(i)}.txt`, `generated ${String(i)}\n`);
    const changes = await workspace.changesSince(before, { task: "gen", attempt: 1 });
    expect(changes.files).toHaveLength(12_000);
    const loose = (): number => readdirSync(join(stateDir, "checkpoints.git/objects")).filter((d) => /^[0-9a-f]{2}$/.test(d)).reduce((n, d) => n + readdirSync(join(stateDir, "checkpoints.git/objects", d)).length, 0);
    expect(loose()).toBeGreaterThan(12_000);
    const size = await workspace.storeSize();

    expect(await workspace.checkpointBefore()).toBe(changes.checkpoint); // gc ran first, between the attempts
    expect(loose()).toBeLessThan(100);
    expect(await workspace.storeSize()).toBeLessThan(size / 2);
    await workspace.restore(before);
    expect(existsSync(join(ws, "gen0"))).toBe(false);
    expect(await workspace.checkpointBefore()).toBe(before);
  });
});
