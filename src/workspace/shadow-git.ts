import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { FileChange } from "../core/events.js";
import type { ProcessOutcome, Transport } from "../transports/port.js";
import { pidAlive, startTimeOf } from "../transports/process-identity.js";
import { borrowUserRepository } from "./borrow.js";
import { coverPaths } from "./pathspecs.js";
import { batches, indexEntries, parseDiff, refName } from "./git-formats.js";
import { restoreByScan, restorePaths } from "./scanned-restore.js";
import { GC_LOOSE_OBJECTS, GC_PACKS, gcDue } from "./housekeeping.js";

export interface ShadowGitOptions {
  /** The shadow repository, e.g. `<stateDir>/checkpoints.git`; created by `init()`. */
  readonly storeDir: string;
  /** The directory whose files are checkpointed. Its own `.git` (if any) is never read by git nor written. */
  readonly workspace: string;
  /** Excluded from checkpoints when it lies inside the workspace. */
  readonly stateDir?: string;
  readonly transport: Transport;
  /** Extra environment for git (e.g. PATH on a transport whose PATH differs); `GIT_*` variables are dropped. */
  readonly env?: Readonly<Record<string, string>>;
  /** Limit for one git process; default 10 minutes. */
  readonly timeoutMs?: number;
  /**
   * An index of this ShadowGit's own (a task's directory beside the run's workspace, src/workspace/task-dirs.ts): the
   * store's objects and refs are shared, its index is not. Such an index is never split (a split index's shared part
   * lives in the store, where another index's writer could expire it). `init()` is not called for it.
   */
  readonly indexFile?: string;
  /** More ignore patterns (`core.excludesFile`): a task directory's links to the workspace's ignored entries. */
  readonly excludesFile?: string;
}

/** A git command failed; `message` ends with the tail of git's stderr. */
export class GitError extends Error {
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stderrTail: string;
  constructor(args: readonly string[], outcome: ProcessOutcome, detail?: string) {
    const stderr = tail(outcome.stderrTail || outcome.error || "", 2000);
    const how =
      outcome.end === "exited" ? `exit ${String(outcome.exitCode)}` : outcome.end === "spawn-error" ? "could not start git" : outcome.end;
    super(`git ${subcommand(args)} failed (${how})${detail ? `: ${detail}` : ""}${stderr ? `: ${stderr}` : ""}`);
    this.name = "GitError";
    this.args = args;
    this.exitCode = outcome.exitCode;
    this.stderrTail = stderr;
  }
}

/** `git hash-object -t tree /dev/null` in SHA-1 repositories. */
export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Output git may print (diff of a huge change set); the transport keeps only a tail, so ask for plenty. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** A path through `.git`, `.orc` or `node_modules` (IGNORED_NAMES in src/watch/parcel.ts), at any depth. */
const EXCLUDED_NAME = /(^|\/)(\.git|\.orc|node_modules)(\/|$)/;
/** Pathspecs from which one `git add --all` costs less than listing them (src/workspace/pathspecs.ts). */
const MAX_PATHSPECS = 64;
/** In the store while it is being made (`createStore`): the pid and start time of the process making it. */
const CREATING = "orc-creating";
/** Bytes of paths per `ls-files` command line, well inside Linux's 128 KiB for one argument and 2 MiB for all. */
const ARGV_BATCH_BYTES = 64 * 1024;

/**
 * Checkpoints of the workspace in a private ("shadow") git repository, so orc can diff and roll back what an agent did
 * without touching the user's repository: every command runs `git --git-dir <store> --work-tree <workspace>`, with
 * system and global git configuration disabled, a neutral HOME and a fixed identity. The workspace's `.gitignore`
 * files are honoured (so are the entries of its `.git/info/exclude`, copied at `init()`); `.git/`, `.orc/`,
 * `node_modules/` and the state directory are always excluded. The user's global `core.excludesFile` is not read.
 *
 * Limits: nested repositories inside the workspace are recorded as gitlinks, or excluded when they have no commit
 * (their files are not checkpointed, nor restored); file names that are not valid UTF-8 are mangled by the transport's
 * text decoding; git's own limits apply (empty directories are not recorded).
 *
 * Recording: `snapshot()` runs `git add --all`; `snapshot(paths)`, for a caller that knows where the workspace
 * changed since the last snapshot, updates only those paths and what lies under them (`ls-files` then
 * `update-index`, both honouring the ignores), falling back to `add --all` when that would cost more or cannot
 * cope (a nested repository). A new store in a workspace that is a git repository starts from the user's index and
 * objects, read-only (src/workspace/borrow.ts). `maintain()` packs the store when git's own gc would.
 *
 * Operations are serialised (one git process at a time): two at once would collide on the index lock. One ShadowGit
 * per store per process; `init()` removes an `index.lock` or `HEAD.lock` left behind by a crashed orc.
 */
export class ShadowGit {
  readonly storeDir: string;
  readonly workspace: string;
  private readonly stateDir: string | undefined;
  private readonly transport: Transport;
  private readonly env: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly indexFile: string | undefined;
  private readonly excludesFile: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Nested repositories without a commit, found by `add`; excluded from then on. */
  private readonly nestedRepos = new Set<string>();
  /** Whether objects may have been written since maintain() last looked (nothing to pack otherwise). */
  private wrote = true;
  /** The commit saveRef() made last: the parent of the next one when that attempt started from its tree. */
  private lastSaved: { readonly tree: string; readonly commit: string } | undefined;

  constructor(options: ShadowGitOptions) {
    this.storeDir = resolve(options.storeDir);
    this.workspace = resolve(options.workspace);
    this.stateDir = options.stateDir === undefined ? undefined : resolve(options.stateDir);
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const extra = Object.entries(options.env ?? {}).filter(([key]) => !key.startsWith("GIT_"));
    this.env = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      ...Object.fromEntries(extra),
      // Isolation from the user's git setup: no system or global config, no inherited repository or index.
      HOME: this.storeDir,
      XDG_CONFIG_HOME: this.storeDir,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_ATTR_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "orc",
      GIT_AUTHOR_EMAIL: "orc@localhost",
      GIT_COMMITTER_NAME: "orc",
      GIT_COMMITTER_EMAIL: "orc@localhost",
      LC_ALL: "C",
      ...(options.indexFile === undefined ? {} : { GIT_INDEX_FILE: resolve(options.indexFile) }),
    };
    this.indexFile = options.indexFile;
    this.excludesFile = options.excludesFile;
  }

  /**
   * Creates the store if needed (starting from the user's repository when the workspace is one), or again when its
   * making was cut short, and (re)writes its exclude file. Idempotent.
   */
  init(): Promise<void> {
    return this.serial(async () => {
      if (this.needsCreating()) await this.createStore();
      this.prepareStore();
    });
  }

  /**
   * No store yet, or one whose making never finished: its marker names a process that is gone (orc killed during
   * `git init`, which writes HEAD before `objects/`, or while it borrowed the user's index). A store another live orc
   * is making is left to it, as a finished one is.
   */
  private needsCreating(): boolean {
    // HEAD without objects/: a `git init` cut short, by an orc from before the marker.
    if (!existsSync(join(this.storeDir, "HEAD")) || !existsSync(join(this.storeDir, "objects"))) return true;
    let marker: string;
    try {
      marker = readFileSync(join(this.storeDir, CREATING), "utf8");
    } catch {
      return false; // no marker: made whole (or by an orc from before the marker)
    }
    const [pid, startTime] = marker.trim().split(" ");
    const maker = Number(pid);
    // The same pid and start time: a pid reused since by an unrelated process is not the maker.
    const making = Number.isInteger(maker) && maker > 0 && maker !== process.pid && pidAlive(maker) && (startTime === undefined || startTimeOf(maker) === startTime);
    return !making;
  }

  /** Makes the store afresh, marked as being made (by this process) until it is whole. */
  private async createStore(): Promise<void> {
    rmSync(this.storeDir, { recursive: true, force: true });
    mkdirSync(this.storeDir, { recursive: true });
    writeFileSync(join(this.storeDir, CREATING), `${[String(process.pid), startTimeOf(process.pid)].filter((f) => f !== undefined).join(" ")}\n`);
    this.prepareStore();
    // --template= : no sample hooks or description copied from the system template directory.
    await this.git(["init", "--quiet", "--template="]);
    await borrowUserRepository({
      storeDir: this.storeDir,
      workspace: this.workspace,
      excluded: this.excluded(),
      git: (args, stdin) => this.git(args, stdin),
    });
    rmSync(join(this.storeDir, CREATING));
  }

  /**
   * The store's folder, its exclude file (`git init` leaves it alone: no template is copied), no stale index.lock or
   * HEAD.lock (a held HEAD would send every later rollback the slow way).
   */
  private prepareStore(): void {
    mkdirSync(join(this.storeDir, "info"), { recursive: true });
    writeFileSync(join(this.storeDir, "info", "exclude"), this.excludeFile());
    for (const lock of ["index.lock", "HEAD.lock"]) rmSync(join(this.storeDir, lock), { force: true });
  }

  /**
   * Records the workspace as it is now; returns the tree id (the same id for the same content). With `paths`
   * (relative, `/`-separated), only those paths and what lies under them are looked at: the caller vouches that
   * nothing else changed since the last snapshot or restore.
   */
  snapshot(paths?: readonly string[]): Promise<string> {
    return this.serial(() => this.record(paths));
  }

  /**
   * About how many files the workspace holds: the entries of the store's index, as its headers tell (the index is
   * split, and its shared part holds most of them); 0 before the first snapshot.
   */
  async files(): Promise<number> {
    if (this.indexFile !== undefined) return indexEntries(this.indexFile);
    const names = await readdir(this.storeDir).catch(() => []);
    const counts = await Promise.all(names.filter((n) => n === "index" || n.startsWith("sharedindex.")).map((n) => indexEntries(join(this.storeDir, n))));
    return Math.max(0, ...counts);
  }

  /**
   * Makes the (empty) workspace hold `tree`: the index is read from it and every file written, with its stat data in
   * the index, so the next `snapshot()` re-reads nothing. A task's own directory (src/workspace/task-dirs.ts).
   */
  materialise(tree: string): Promise<void> {
    return this.serial(async () => {
      assertObjectId(tree);
      await this.git(["read-tree", tree]);
      await this.git(["checkout-index", "--all", "--force"]);
    });
  }

  /**
   * The three-way merge of `theirs` into `ours`, both made from `base` (trees): the merged tree, or the paths that
   * conflict. Done in the store alone (`merge-tree --write-tree` over commits made for the purpose), so no
   * workspace or index is touched.
   */
  mergeTrees(base: string, ours: string, theirs: string): Promise<{ readonly tree: string } | { readonly conflicts: readonly string[] }> {
    return this.serial(async () => {
      const baseCommit = await this.commitTree(base, "orc merge base");
      const oursCommit = await this.commitTree(ours, "orc merge: the run's workspace", ["-p", baseCommit]);
      const theirsCommit = await this.commitTree(theirs, "orc merge: the task's work", ["-p", baseCommit]);
      this.wrote = true;
      const args = ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", oursCommit, theirsCommit];
      const outcome = await this.run(args);
      // Exit 0: merged cleanly; 1: conflicts (the tree then holds conflict markers, unused); anything else: an error.
      if (outcome.end !== "exited" || (outcome.exitCode !== 0 && outcome.exitCode !== 1)) throw new GitError(args, outcome);
      const [tree = "", ...paths] = outcome.stdoutTail.split("\0").filter((p) => p !== "");
      if (!OBJECT_ID.test(tree)) throw new GitError(args, outcome, `printed ${JSON.stringify(tree.slice(0, 80))}, not a tree id`);
      return outcome.exitCode === 0 ? { tree } : { conflicts: [...new Set(paths)].sort() };
    });
  }

  /** Files that differ between two trees, sorted by path. A rename is a deletion plus an addition. */
  diff(fromTree: string, toTree: string): Promise<FileChange[]> {
    return this.serial(async () => {
      assertObjectId(fromTree);
      assertObjectId(toTree);
      if (fromTree === toTree) return [];
      const out = await this.git(["diff-tree", "-r", "-z", "--no-renames", "--no-ext-diff", "--raw", "--numstat", fromTree, toTree]);
      return parseDiff(out);
    });
  }

  /** The unified diff (no renames, 3 lines of context) of `paths` between two trees; "" when they are equal. */
  patch(fromTree: string, toTree: string, paths: readonly string[]): Promise<string> {
    return this.serial(async () => {
      assertObjectId(fromTree);
      assertObjectId(toTree);
      if (fromTree === toTree || paths.length === 0) return "";
      // --literal-pathspecs: a path is a name, never a glob or magic pathspec.
      return this.git(["--literal-pathspecs", "diff-tree", "-r", "-p", "--no-renames", "--no-ext-diff", "--no-color", fromTree, toTree, "--", ...paths]);
    });
  }

  /**
   * Keeps `tree` reachable under `refs/orc/<name>` (a commit made with commit-tree) so that git never prunes it.
   * With `parentTree` (the checkpoint before), the commit's parent is a commit of that tree, which keeps it reachable
   * too (`refs/orc/<name>^` is the checkpoint before): the previous attempt's commit when it ended there, so that
   * consecutive attempts form a history. Characters a ref may not hold are %-escaped. Returns the commit id.
   */
  saveRef(name: string, tree: string, parentTree?: string): Promise<string> {
    return this.serial(async () => {
      assertObjectId(tree);
      const ref = `refs/orc/${refName(name)}`;
      let parent: string[] = [];
      if (parentTree !== undefined) {
        const previous = this.lastSaved?.tree === parentTree ? this.lastSaved.commit : await this.commitTree(parentTree, `orc checkpoint before ${name}`);
        parent = ["-p", previous];
      }
      const commit = await this.commitTree(tree, `orc checkpoint ${name}`, parent);
      this.wrote = true;
      await this.git(["update-ref", ref, commit]);
      this.lastSaved = { tree, commit };
      return commit;
    });
  }

  /**
   * Packs the store when git's own `gc --auto` would (loose objects or packs past git's defaults), never pruning
   * what a ref reaches, nor unreachable objects younger than gc.pruneExpire (2 weeks). Call it between attempts:
   * it holds the store for its whole run. True when it ran; a failed gc is not an error (the store still works).
   */
  maintain(): Promise<boolean> {
    return this.serial(async () => {
      if (!this.wrote) return false;
      this.wrote = false;
      if (!(await gcDue(this.storeDir))) return false;
      const limits = ["-c", `gc.auto=${String(GC_LOOSE_OBJECTS)}`, "-c", `gc.autoPackLimit=${String(GC_PACKS)}`];
      // autoDetach=false: a gc left running in the background would hold the store during the next attempt.
      await this.git([...limits, "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"]).catch(() => undefined);
      return true;
    });
  }

  /** The tree saved under `refs/orc/<name>`, if any. */
  readRef(name: string): Promise<string | undefined> {
    return this.serial(async () => {
      const ref = `refs/orc/${refName(name)}`;
      const out = await this.git(["for-each-ref", "--format=%(objectname)", ref]);
      const commit = out.trim();
      if (commit === "") return undefined;
      return (await this.git(["rev-parse", "--verify", `${commit}^{tree}`])).trim();
    });
  }

  /**
   * Makes the workspace match `tree`: changed files are rewritten, deleted ones come back, and files created since
   * (not ignored) are removed. Ignored and excluded files are left alone. `paths` as for `snapshot()`.
   */
  restore(tree: string, paths?: readonly string[]): Promise<void> {
    return this.serial(async () => {
      assertObjectId(tree);
      if (paths === undefined && this.indexFile === undefined && this.nestedRepos.size === 0) {
        const done = await restoreByScan((args, stdin) => this.gitOutput(args, stdin), this, tree, MAX_PATHSPECS).catch((error: unknown) => {
          if (error instanceof GitError) return false;
          throw error;
        });
        if (done) return;
      }
      // The workspace now, in the index, so that git knows which files exist and removes those not in `tree`; the
      // index is compared with `tree` as it is (no tree written for it: one git process less on a big index).
      await this.updateIndex(paths);
      try {
        const differ = (await this.git(["diff-index", "--cached", "-z", "--name-only", "--no-renames", tree])).split("\0").filter((p) => p !== "");
        if (differ.length === 0) return;
        if (differ.length <= MAX_PATHSPECS) {
          // Only the paths where the trees differ: index and files from `tree`, and removed where `tree` has none.
          await this.git(restorePaths(tree), `${differ.join("\0")}\0`);
        } else {
          // A switch between the two trees: it too writes only where they differ, but walks both whole.
          await this.git(["read-tree", "-m", "-u", await this.writeTree(), tree]);
        }
      } catch (error) {
        if (!(error instanceof GitError)) throw error;
        // A file written since the record (or an untracked one in the way): overwrite, as a reset does.
        await this.git(["read-tree", "--reset", "-u", tree]);
      }
    });
  }

  private async record(paths: readonly string[] | undefined): Promise<string> {
    await this.updateIndex(paths);
    return this.writeTree();
  }

  /** The index brought up to date with the workspace (at `paths` only, when given; see `snapshot()`). */
  private async updateIndex(paths: readonly string[] | undefined): Promise<void> {
    this.wrote = true;
    const cover = paths === undefined ? undefined : coverPaths(paths, MAX_PATHSPECS);
    if (cover === undefined || !(await this.updatePaths(cover))) await this.addAll();
  }

  private async writeTree(): Promise<string> {
    const tree = (await this.git(["write-tree"])).trim();
    if (!OBJECT_ID.test(tree)) throw new Error(`git write-tree printed ${JSON.stringify(tree)}, not a tree id`);
    return tree;
  }

  /**
   * Brings the index up to date for `paths` and everything under them: `ls-files` names the tracked entries there
   * and the untracked files not ignored, `update-index` re-reads them (adding, updating, removing). False when only
   * `add --all` copes: a path in or at a nested repository (git records it as a gitlink, or not at all), or an update
   * git refused (a tracked file replaced by a directory).
   */
  private async updatePaths(paths: readonly string[]): Promise<boolean> {
    if (this.inNestedRepository(paths)) return false;
    const listed: string[] = [];
    for (const batch of batches(paths, ARGV_BATCH_BYTES)) {
      const out = await this.git(["--literal-pathspecs", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ...batch]);
      for (const path of out.split("\0")) if (path !== "") listed.push(path);
    }
    if (listed.some((path) => path.endsWith("/"))) return false; // a nested repository after all
    if (listed.length === 0) return true;
    try {
      // --replace: a file where a directory was.
      await this.git(["update-index", "--add", "--remove", "--replace", "-z", "--stdin"], `${listed.join("\0")}\0`);
      return true;
    } catch (error) {
      if (error instanceof GitError) return false;
      throw error;
    }
  }

  /** True when a path, or a directory above it inside the workspace, holds a `.git` of its own. */
  private inNestedRepository(paths: readonly string[]): boolean {
    const seen = new Map<string, boolean>();
    const isRepository = (dir: string): boolean => {
      let known = seen.get(dir);
      if (known === undefined) seen.set(dir, (known = existsSync(join(this.workspace, dir, ".git"))));
      return known;
    };
    return paths.some((path) => {
      for (let end = path.length; end > 0; end = path.lastIndexOf("/", end - 1)) if (isRepository(path.slice(0, end))) return true;
      return false;
    });
  }

  private async commitTree(tree: string, message: string, parent: readonly string[] = []): Promise<string> {
    assertObjectId(tree);
    const commit = (await this.git(["commit-tree", tree, ...parent, "-m", message])).trim();
    if (!OBJECT_ID.test(commit)) throw new Error(`git commit-tree printed ${JSON.stringify(commit)}, not a commit id`);
    return commit;
  }

  /**
   * `git add --all`. A nested repository without a commit (an agent ran `git init` in a subdirectory) makes git refuse
   * the whole add; such directories are excluded (like any nested repository, their files are not checkpointed) and
   * the add is retried.
   */
  private async addAll(): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        await this.git(["-c", "advice.addEmbeddedRepo=false", "add", "--all"]);
        return;
      } catch (error) {
        const empty = error instanceof GitError ? [...error.stderrTail.matchAll(/^error: '(.+)\/' does not have a commit checked out$/gm)] : [];
        const fresh = empty.map((m) => m[1] ?? "").filter((p) => p !== "" && !this.nestedRepos.has(p));
        if (fresh.length === 0 || tries >= 10) throw error;
        for (const path of fresh) this.nestedRepos.add(path);
        writeFileSync(join(this.storeDir, "info", "exclude"), this.excludeFile());
      }
    }
  }

  /**
   * Which of `names` (top-level entries of the workspace) the store never records: ignored by the workspace's ignore
   * files or orc's own excludes. Patterns only (`--no-index`): an entry the checkpoints hold is present anyway.
   */
  ignoredOf(names: readonly string[]): Promise<Set<string>> {
    if (names.length === 0) return Promise.resolve(new Set());
    return this.serial(async () => {
      const args = ["check-ignore", "-z", "--no-index", "--stdin"];
      const outcome = await this.run(args, `${names.join("\0")}\0`);
      // Exit 1: none of them is ignored.
      if (outcome.end !== "exited" || (outcome.exitCode !== 0 && outcome.exitCode !== 1)) throw new GitError(args, outcome);
      return new Set(outcome.stdoutTail.split("\0").filter((n) => n !== ""));
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op, op);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async git(args: readonly string[], stdin?: string): Promise<string> {
    return (await this.gitOutput(args, stdin)).stdout;
  }

  private async gitOutput(args: readonly string[], stdin?: string): Promise<{ stdout: string; stderr: string }> {
    const outcome = await this.run(args, stdin);
    if (outcome.end !== "exited" || outcome.exitCode !== 0) throw new GitError(args, outcome);
    if (outcome.droppedBytes > 0) throw new GitError(args, outcome, `output larger than ${String(MAX_OUTPUT_BYTES)} bytes`);
    return { stdout: outcome.stdoutTail, stderr: outcome.stderrTail };
  }

  private run(args: readonly string[], stdin?: string): Promise<ProcessOutcome> {
    const full = [...this.gitOptions(), ...args];
    return this.transport.run({
      command: "git",
      args: full,
      cwd: this.workspace,
      env: this.env,
      timeoutMs: this.timeoutMs,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      ...(stdin === undefined ? {} : { stdin }),
    });
  }

  /**
   * The store, the workspace and the settings, before every git command. gc.auto=0: orc's refs keep what matters, and
   * an automatic gc must not stall an attempt (`maintain()` runs it between attempts). A split index: every command
   * reads the index, and the commands that write it (add, update-index, write-tree, read-tree) then write only the
   * entries that changed, not all 100,000 of a big workspace; the shared part is rewritten now and then and the one
   * it replaces deleted at once (only this store's index uses it, one git process at a time).
   */
  private gitOptions(): string[] {
    return [
      "--git-dir",
      this.storeDir,
      "--work-tree",
      this.workspace,
      ...["-c", "gc.auto=0", "-c", "core.autocrlf=false"],
      ...(this.indexFile === undefined ? ["-c", "core.splitIndex=true", "-c", "splitIndex.sharedIndexExpire=now"] : ["-c", "core.splitIndex=false"]),
      ...(this.excludesFile === undefined ? [] : ["-c", `core.excludesFile=${this.excludesFile}`]),
    ];
  }

  /** Whether a path (relative, `/`-separated) is one the exclude file below keeps out of every checkpoint. */
  private excluded(): (path: string) => boolean {
    const dirs = this.excludedDirs();
    return (path) => EXCLUDED_NAME.test(path) || dirs.some((dir) => path === dir || path.startsWith(`${dir}/`));
  }

  /** The state directory, the store and nested repositories, relative to the workspace, when they lie inside it. */
  private excludedDirs(): string[] {
    const dirs: string[] = [...this.nestedRepos];
    for (const dir of [this.stateDir, this.storeDir]) {
      const rel = dir === undefined ? "" : relative(this.workspace, dir);
      if (rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) dirs.push(rel.split(sep).join("/"));
    }
    return dirs;
  }

  private excludeFile(): string {
    // node_modules/ too: the change watcher (src/watch/) ignores it, and both must agree on what "the workspace" is,
    // or a dependency install would be missed by one and attributed to a later attempt by the other.
    const lines = ["# Written by orc: what the checkpoint store never records.", "/.git/", ".orc/", "node_modules/"];
    for (const dir of this.excludedDirs()) lines.push(`/${escapePattern(dir)}/`);
    try {
      const user = readFileSync(join(this.workspace, ".git", "info", "exclude"), "utf8");
      lines.push("# From the workspace's .git/info/exclude:", user);
    } catch {
      // No repository, or .git is a file (worktree): nothing to copy.
    }
    return `${lines.join("\n")}\n`;
  }
}

function escapePattern(path: string): string {
  return path.replace(/[\\*?[\]!# ]/g, (c) => `\\${c}`);
}

function assertObjectId(id: string): void {
  if (!OBJECT_ID.test(id)) throw new Error(`not a git object id: ${JSON.stringify(id)}`);
}

/** The first argument that is not a global option (`-c name=value` takes two). */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "-c") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return "";
}

function tail(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed;
}
