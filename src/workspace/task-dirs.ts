/**
 * A directory of its own for each task that runs beside others (`concurrency` above 1), made from orc's shadow store
 * rather than with `git worktree add`: a worktree writes its entry into the user's `.git/worktrees` (and needs a
 * branch or a detached HEAD there), and orc never writes the user's `.git`. Here the task's directory gets an index of
 * its own (`<stateDir>/runs/<run>/tasks/<task>.index`) over the run's store: `read-tree` of the checkpoint, then
 * `checkout-index --all` writes every file with its stat data, which costs what `git worktree add` costs (it runs
 * the same checkout; bench/parallel.mjs measures both). The store's objects and refs are shared, so the task's
 * checkpoints, `orc diff` and `orc rollback` work as for any attempt, and a merge back is a three-way merge in the
 * store (`git merge-tree`), never in the user's repository.
 *
 * What a checkpoint does not hold (ignored entries such as `node_modules/`, `.env`, build output) is not copied: each
 * ignored top-level entry of the run's workspace is linked (a symlink) into the task's directory and kept out of the
 * task's checkpoints, so tests and tools find their dependencies. A task that writes through such a link writes the
 * run's copy (read-only inside the sandbox).
 *
 * Task directories live under `root/<run>/` (by default the system's temporary directory, `ORC_TASK_DIRS`
 * overrides), outside the user's workspace and outside orc's state directory, which the sandbox hides.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Transport } from "../transports/port.js";
import { LocalWorkspace } from "./local.js";
import type { CheckpointId, TaskWorkspaces, Workspace } from "./port.js";
import { ShadowGit } from "./shadow-git.js";

export interface TaskDirectoriesOptions {
  /** The run's workspace: the source of the ignored entries linked into each task's directory. */
  readonly main: LocalWorkspace;
  readonly stateDir: string;
  readonly runId: string;
  /** Where the run's task directories go (`<root>/<run>/<task>`). */
  readonly root: string;
  /** Runs git on the host. */
  readonly transport: Transport;
  readonly liveFrom?: number;
}

/** Where task directories go unless ORC_TASK_DIRS says: per user, since the first to make a shared one locks the others out. */
export function taskDirsRoot(env: Readonly<Record<string, string | undefined>>): string {
  return env.ORC_TASK_DIRS ?? join(tmpdir(), `orc-tasks-${String(process.getuid?.() ?? "user")}`);
}

/**
 * The root of the task directories, made if missing; why it cannot be used, or undefined. It must be a real directory
 * of this user's that nobody else may enter: in a shared /tmp another user could make it first (or a link by its
 * name) and then read the tasks' files or plant some that a task merges into the workspace.
 */
export function claimTaskDirsRoot(root: string): string | undefined {
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const st = lstatSync(root);
    const uid = process.getuid?.();
    if (st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o077) === 0) return undefined;
  } catch (error) {
    return `the task directories' root ${root} cannot be made: ${(error as Error).message}; set ORC_TASK_DIRS`;
  }
  return `the task directories' root ${root} must be a directory of your own that only you can enter (mode 700); remove it or set ORC_TASK_DIRS`;
}

/** Entries of the workspace never linked into a task's directory: git's own, and orc's. */
const NEVER_LINKED = new Set([".git", ".orc"]);

export class TaskDirectories implements TaskWorkspaces {
  private readonly open_ = new Map<string, LocalWorkspace>();
  private readonly runRoot: string;
  private readonly keep: string;

  /** Throws when the root is not this user's alone (orc apply and resume say so first, with exit 2). */
  constructor(private readonly options: TaskDirectoriesOptions) {
    const refused = claimTaskDirsRoot(options.root);
    if (refused !== undefined) throw new Error(refused);
    this.runRoot = resolve(options.root, options.runId);
    this.keep = join(options.stateDir, "runs", options.runId, "tasks");
  }

  /** The directory `task` works in. */
  dirOf(task: string): string {
    return join(this.runRoot, safeName(task));
  }

  async open(task: string, from: CheckpointId): Promise<Workspace> {
    await this.remove(task);
    const dir = this.dirOf(task);
    const name = safeName(task);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mkdirSync(this.keep, { recursive: true });
    const excludesFile = join(this.keep, `${name}.exclude`);
    writeFileSync(excludesFile, "");
    const git = new ShadowGit({
      storeDir: this.options.main.store.storeDir,
      workspace: dir,
      stateDir: this.options.stateDir,
      transport: this.options.transport,
      indexFile: join(this.keep, `${name}.index`),
      excludesFile,
    });
    await git.materialise(from);
    // Before the first checkpoint of the directory: its links are never part of one.
    const linked = await this.ignoredEntries(dir);
    writeFileSync(excludesFile, `# Written by orc: the run's ignored entries, linked into this task's directory.\n${linked.map((n) => `/${escapePattern(n)}\n`).join("")}`);
    for (const entry of linked) symlinkSync(join(this.options.main.dir, entry), join(dir, entry));
    const workspace = LocalWorkspace.over(git, {
      dir,
      stateDir: this.options.stateDir,
      runId: this.options.runId,
      transport: this.options.transport,
      exclusive: true,
      housekeeping: false,
      snapshotFile: join(this.keep, `${name}.snapshot`),
      ...(this.options.liveFrom === undefined ? {} : { liveFrom: this.options.liveFrom }),
    });
    this.open_.set(task, workspace);
    return workspace;
  }

  merge(base: CheckpointId, ours: CheckpointId, theirs: CheckpointId): Promise<{ readonly checkpoint: CheckpointId } | { readonly conflicts: readonly string[] }> {
    if (ours === base || ours === theirs) return Promise.resolve({ checkpoint: theirs });
    if (theirs === base) return Promise.resolve({ checkpoint: ours });
    return this.options.main.store.mergeTrees(base, ours, theirs).then((r) => ("tree" in r ? { checkpoint: r.tree } : r));
  }

  async remove(task: string): Promise<void> {
    const open = this.open_.get(task);
    this.open_.delete(task);
    await open?.close();
    const name = safeName(task);
    await rm(this.dirOf(task), { recursive: true, force: true });
    await Promise.all([".index", ".exclude", ".snapshot"].map((ext) => rm(join(this.keep, `${name}${ext}`), { force: true })));
  }

  async removeAll(): Promise<void> {
    await Promise.all([...this.open_.keys()].map((task) => this.remove(task)));
    await rm(this.runRoot, { recursive: true, force: true });
    await rm(this.keep, { recursive: true, force: true });
  }

  /**
   * Top-level entries of the run's workspace that the checkout did not write into `dir` and that are ignored (what no
   * checkpoint holds), to be linked; never `.git`, `.orc`, nor the state directory or the store when they lie inside
   * the workspace. An entry the workspace gained after the checkpoint (another task's merged work, when a resumed run
   * makes the directory again from an older checkpoint) is not ignored and not linked: the task would write through
   * the link into the run's workspace, past the merge (and, in the sandbox, into a read-only bind).
   */
  private async ignoredEntries(dir: string): Promise<string[]> {
    const main = this.options.main.dir;
    const orcOwn = new Set([resolve(this.options.stateDir), resolve(this.options.main.store.storeDir), this.runRoot]);
    const missing = readdirSync(main).filter((n) => !NEVER_LINKED.has(n) && !orcOwn.has(resolve(main, n)) && !existsSync(join(dir, n)));
    const ignored = await this.options.main.store.ignoredOf(missing);
    return missing.filter((n) => ignored.has(n));
  }
}

/** A task id as one safe path component. */
function safeName(task: string): string {
  return encodeURIComponent(task).replace(/^\.+/, (dots) => "%2E".repeat(dots.length));
}

function escapePattern(path: string): string {
  return path.replace(/[\\*?[\]!# ]/g, (c) => `\\${c}`);
}
