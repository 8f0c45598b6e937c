import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rig } from "./helpers/rig.js";

interface Attempt {
  attempt: number;
  status: string;
  decision?: string;
  checkpoint?: string;
  rolledBack?: boolean;
  changes?: { files: { path: string; status: string }[]; checkpoint?: string };
}
interface Status {
  run: { id: string; status: string; reason?: string };
  tasks: { id: string; status: string; attempts: Attempt[] }[];
}

/** Every file under `root` but `skip`, with its bytes and permission bits: what "byte for byte" compares. */
function tree(root: string, skip: readonly string[] = [".git"]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (skip.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else out[rel] = `${(stat.mode & 0o777).toString(8)} ${readFileSync(path, "base64")}`;
    }
  };
  walk(root);
  return out;
}

/** The first task breaks things in every way a rollback must undo; the second adds one file. */
const AGENT = `#!/bin/sh
set -e
case "$ORC_TASK_ID" in
  one)
    echo "changed by one" >> keep.txt
    rm -rf dir
    chmod +x run.sh
    echo "new" > new.txt
    echo "edited" > pre-untracked.txt
    mkdir -p ignored && echo "agent cache" > ignored/cache.txt
    printf '\\0\\1\\2' > blob.bin
    ;;
  two)
    echo "two" > two.txt
    ;;
esac
echo "done $ORC_TASK_ID"
`;

describe("orc rollback and orc diff", () => {
  let rig: Rig;
  beforeEach(() => {
    rig = new Rig();
    rig.write("agent.sh", AGENT);
    rig.write("ws/keep.txt", "kept\n");
    rig.write("ws/dir/a.txt", "a\n");
    rig.write("ws/dir/sub/b.txt", "b\n");
    rig.write("ws/run.sh", "echo run\n");
    rig.write("ws/.gitignore", "ignored/\n");
    rig.write("ws/ignored/cache.txt", "user cache\n");
    const git = (...args: string[]): void => {
      execFileSync("git", ["-C", rig.path("ws"), ...args], { stdio: "ignore", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
    };
    git("init", "-q");
    git("add", "keep.txt", "dir", "run.sh", ".gitignore");
    git("commit", "-q", "-m", "base");
    rig.write("ws/pre-untracked.txt", "there before orc\n");
    rig.write(
      "pipeline.yaml",
      `version: 1
name: undoable
transport: local
agent: { kind: command, run: sh ${rig.path("agent.sh")} }
tasks:
  - { id: one, prompt: break things }
  - { id: two, needs: [one], prompt: add two }
`,
    );
  });
  afterEach(() => {
    rig.cleanup();
  });

  const ws = (): string => rig.path("ws");

  it("puts the workspace back byte for byte, marks what came after rolled back, and resume redoes it", () => {
    const before = tree(ws(), [".git", "ignored"]);
    const gitBefore = tree(join(ws(), ".git"), []);
    const applied = rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const run = rig.json<Status>(["status", "--json"]).run.id;
    expect(existsSync(join(ws(), "dir"))).toBe(false);
    expect(lstatSync(join(ws(), "run.sh")).mode & 0o111).not.toBe(0);

    const diff = rig.orc(["diff", run, "one"]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain("+changed by one");
    expect(diff.stdout).toContain("deleted file mode 100644");
    expect(diff.stdout).toContain("-a");
    expect(diff.stdout).toContain("new mode 100755");

    const rolled = rig.orc(["rollback", run, "--task", "one"]);
    expect(rolled.stderr).toBe("");
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toContain(`run ${run} rolled back to the start of task one`);
    expect(rolled.stdout).toContain("2 attempts undone");
    expect(tree(ws(), [".git", "ignored"])).toEqual(before);
    // Ignored files and the user's .git are left alone.
    expect(readFileSync(join(ws(), "ignored/cache.txt"), "utf8")).toBe("agent cache\n");
    expect(tree(join(ws(), ".git"), [])).toEqual(gitBefore);

    const status = rig.json<Status>(["status", "--json", run]);
    expect(status.run.status).toBe("paused");
    expect(status.tasks.map((t) => [t.id, t.status])).toEqual([
      ["one", "pending"],
      ["two", "pending"],
    ]);
    expect(status.tasks.flatMap((t) => t.attempts.map((a) => a.rolledBack))).toEqual([true, true]);
    // The store keeps what the undone attempts did.
    expect(rig.orc(["diff", run, "two"]).stdout).toContain("+two");

    const resumed = rig.orc(["resume", run]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const after = rig.json<Status>(["status", "--json", run]);
    expect(after.run.status).toBe("succeeded");
    expect(after.tasks[0]?.attempts.map((a) => [a.attempt, a.rolledBack ?? false, a.decision])).toEqual([
      [1, true, "accept"],
      [2, false, "accept"],
    ]);
    // The task's effect happened once in the workspace, not twice.
    expect(readFileSync(join(ws(), "keep.txt"), "utf8")).toBe("kept\nchanged by one\n");
  });

  it("rolls back to a checkpoint after an attempt (--to), undoing only what started later", () => {
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]).code).toBe(0);
    const status = rig.json<Status>(["status", "--json"]);
    const afterOne = status.tasks[0]?.attempts[0]?.changes?.checkpoint;
    expect(afterOne).toMatch(/^[0-9a-f]{40}$/);
    const rolled = rig.orc(["rollback", status.run.id, "--to", (afterOne ?? "").slice(0, 10)]);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(existsSync(join(ws(), "two.txt"))).toBe(false);
    expect(readFileSync(join(ws(), "keep.txt"), "utf8")).toBe("kept\nchanged by one\n");
    const after = rig.json<Status>(["status", "--json"]);
    expect(after.tasks.map((t) => [t.id, t.status])).toEqual([
      ["one", "accepted"],
      ["two", "pending"],
    ]);
  });

  it("refuses bad targets with exit 2 and a run that is still active with exit 1, touching nothing", async () => {
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]).code).toBe(0);
    const run = rig.json<Status>(["status", "--json"]).run.id;
    const cases: [string[], RegExp][] = [
      [["rollback", "r-nope"], /unknown run|no run/],
      [["rollback", run, "--task", "nope"], /task "nope" has no attempts/],
      [["rollback", run, "--attempt", "1"], /--attempt needs --task/],
      [["rollback", run, "--to", "zz"], /7 to 64 hex digits/],
      [["rollback", run, "--to", "0000000"], /no checkpoint 0000000/],
      [["rollback", run, "--task", "one", "--attempt", "0"], /whole number/],
    ];
    const untouched = tree(ws());
    for (const [args, message] of cases) {
      const result = rig.orc(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(tree(ws())).toEqual(untouched);

    rig.write("slow.mjs", `setTimeout(() => {}, 60_000);\n`);
    rig.write("slow.yaml", `version: 1\nname: slow\ntransport: local\nagent: { kind: command, run: node ${rig.path("slow.mjs")} }\ntasks:\n  - { id: wait, prompt: wait }\n`);
    const running = rig.start(["apply", "slow.yaml", "--workspace", "ws"]);
    await running.waitFor("[wait] attempt 1/3 started");
    const active = rig.json<Status>(["status", "--json"]).run.id;
    const refused = rig.orc(["rollback", active]);
    running.child.kill("SIGINT");
    await running.finished();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`run ${active} is active in process`);
  });

  it("holds the run while it restores: a resume or a second rollback started meanwhile refuses, and resume works after", async () => {
    expect(rig.orc(["apply", "pipeline.yaml", "--workspace", "ws"]).code).toBe(0);
    const run = rig.json<Status>(["status", "--json"]).run.id;
    expect(rig.orc(["rollback", run, "--task", "two"]).code).toBe(0); // paused: resumable
    // A gate in front of the real git (named a fake: it only waits), so the rollback is caught mid-restore.
    rig.write(
      "gated-bin/git",
      `#!/bin/sh\ncase " $* " in *" status "*) touch "${rig.path("gated")}"; while [ ! -e "${rig.path("release")}" ]; do sleep 0.05; done;; esac\nexec ${execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim()} "$@"\n`,
    );
    execFileSync("chmod", ["+x", rig.path("gated-bin/git")]);
    const rolling = rig.start(["rollback", run, "--task", "one"], { env: { PATH: `${rig.path("gated-bin")}:${process.env.PATH ?? ""}` } });
    for (let i = 0; !existsSync(rig.path("gated")); i++) {
      if (i > 600) throw new Error(`the rollback never reached git status: ${rolling.stdout}${rolling.stderr}`);
      await new Promise((done) => setTimeout(done, 50));
    }
    const resumed = rig.orc(["resume", run]);
    const second = rig.orc(["rollback", run, "--task", "one"]);
    rig.write("release", "");
    expect(await rolling.finished()).toBe(0);
    expect(rolling.stdout).toContain(`run ${run} rolled back to the start of task one`);
    expect(resumed.code, resumed.stderr).toBe(2); // run-busy, as for a live driver
    expect(resumed.stderr).toContain(`run ${run} is still running in process ${String(rolling.child.pid)}`);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`run ${run} is active in process ${String(rolling.child.pid)}`);
    expect(existsSync(join(ws(), "two.txt"))).toBe(false); // nothing ran a task meanwhile
    expect(rig.json<Status>(["status", "--json", run]).tasks.flatMap((t) => t.attempts.map((a) => a.rolledBack))).toEqual([true, true]);
    // Once the rollback is done the run is free again.
    const after = rig.orc(["resume", run]);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(readFileSync(join(ws(), "two.txt"), "utf8")).toBe("two\n");
  });

  it("a task rejected after another task ran while it waited leaves that task's work alone", () => {
    rig.write("mixed.sh", 'echo "$ORC_TASK_ID" > "$ORC_TASK_ID.txt"\n');
    rig.write(
      "mixed.yaml",
      `version: 1
name: mixed
transport: local
agent: { kind: command, run: sh ${rig.path("mixed.sh")} }
tasks:
  - { id: waits, prompt: wait for a human }
  - { id: other, prompt: run meanwhile }
breakpoints:
  - { id: look, when: 'task.id == "waits"', action: pause }
`,
    );
    expect(rig.orc(["apply", "mixed.yaml", "--workspace", "ws"]).code).toBe(3);
    expect(readFileSync(join(ws(), "other.txt"), "utf8")).toBe("other\n");
    const [bp] = rig.json<{ id: string }[]>(["breakpoints", "--json"]);
    expect(rig.orc(["resolve", bp?.id ?? "", "--reject"]).code).toBe(0);
    const run = rig.json<Status>(["status", "--json"]).run.id;
    expect(rig.orc(["resume", run]).code).toBe(1);
    // Putting the workspace back to where "waits" started would take "other"'s accepted work away too: orc does not.
    expect(readFileSync(join(ws(), "other.txt"), "utf8")).toBe("other\n");
    expect(rig.orc(["logs", run]).stdout).not.toContain("[waits] workspace restored");
  });

  it("a failed task leaves the workspace as it was before it, unless failed_work: keep", () => {
    rig.write("fail.sh", "echo broken >> keep.txt\necho half > half.txt\n");
    const pipeline = (extra: string): string => `version: 1
name: failing
transport: local
${extra}agent: { kind: command, run: sh ${rig.path("fail.sh")} }
gates: { never: { run: "false" } }
tasks:
  - { id: bad, prompt: try, gates: [never], max_attempts: 2 }
`;
    const before = tree(ws(), [".git"]);
    rig.write("failing.yaml", pipeline(""));
    const failed = rig.orc(["apply", "failing.yaml", "--workspace", "ws"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("[bad] workspace restored to the task's start: the failed task's work is undone");
    expect(tree(ws(), [".git"])).toEqual(before);
    const run = rig.json<Status>(["status", "--json"]).run.id;
    expect(rig.orc(["diff", run, "bad", "--attempt", "2"]).stdout).toContain("+half");

    rig.write("keeping.yaml", pipeline("failed_work: keep\n"));
    expect(rig.orc(["apply", "keeping.yaml", "--workspace", "ws"]).code).toBe(1);
    expect(readFileSync(join(ws(), "half.txt"), "utf8")).toBe("half\n");
    // A fresh retry (the command agent has no session) started from the task's start: one line, not two.
    expect(readFileSync(join(ws(), "keep.txt"), "utf8")).toBe("kept\nbroken\n");
  });
});
