/**
 * Single files of a checkpoint, for held-out gates: which paths a checkpoint holds, one file's text in it, and some
 * paths put back as they were in it while the rest of the workspace stays as the agent left it. Runs against the same
 * shadow store as ShadowGit (src/workspace/shadow-git.ts) but never touches its index: `checkout-index` needs one, so
 * a throwaway index (GIT_INDEX_FILE) is read from the checkpoint and removed afterwards. Two restores at once (tasks
 * side by side) each have their own.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { isAbsolute, join, normalize, resolve, sep } from "node:path";
import type { Transport } from "../transports/port.js";
import { removeFiles } from "./remove-files.js";

export interface CheckpointFilesOptions {
  /** The shadow store the checkpoints are in (`<stateDir>/checkpoints.git`). */
  readonly storeDir: string;
  readonly workspace: string;
  readonly transport: Transport;
}

const TIMEOUT_MS = 10 * 60_000;
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export class CheckpointFiles {
  private readonly storeDir: string;
  private readonly workspace: string;
  private readonly transport: Transport;

  constructor(options: CheckpointFilesOptions) {
    this.storeDir = resolve(options.storeDir);
    this.workspace = resolve(options.workspace);
    this.transport = options.transport;
  }

  /** Every file path `checkpoint` holds, `/`-separated, relative to the workspace. */
  async paths(checkpoint: string): Promise<string[]> {
    assertObjectId(checkpoint);
    const out = await this.git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", checkpoint]);
    return out.split("\0").filter((p) => p !== "");
  }

  /** The text of `path` in `checkpoint`; undefined when it holds no such file. */
  async read(checkpoint: string, path: string): Promise<string | undefined> {
    assertObjectId(checkpoint);
    const held = await this.git(["--literal-pathspecs", "ls-tree", "-z", "--name-only", "--full-tree", checkpoint, "--", safePath(path)]);
    if (held.split("\0")[0] !== path) return undefined;
    return this.git(["cat-file", "blob", `${checkpoint}:${path}`]);
  }

  /** Each of `paths` as it was in `checkpoint`: rewritten when it held the file, removed when it did not. */
  async restore(checkpoint: string, paths: readonly string[]): Promise<void> {
    assertObjectId(checkpoint);
    if (paths.length === 0) return;
    const held = new Set(await this.paths(checkpoint));
    const back = paths.filter((p) => held.has(p));
    const gone = paths.filter((p) => !held.has(p));
    if (back.length > 0) {
      const index = join(this.storeDir, `orc-restore-${randomBytes(6).toString("hex")}.index`);
      try {
        await this.git(["read-tree", checkpoint], index);
        await this.git(["checkout-index", "--force", "-z", "--stdin"], index, back.map(safePath).join("\0"));
      } finally {
        rmSync(index, { force: true });
      }
    }
    await this.remove(gone);
  }

  /**
   * Removes `paths` from the workspace (held-out files while the agent works); a missing one is no error. Folders left
   * empty go too: an empty `tests/hidden/` would tell the agent what it is not shown.
   */
  async remove(paths: readonly string[]): Promise<void> {
    await removeFiles(this.workspace, paths.map(safePath));
  }

  private async git(args: readonly string[], index?: string, stdin?: string): Promise<string> {
    const outcome = await this.transport.run({
      command: "git",
      args: ["--git-dir", this.storeDir, "--work-tree", this.workspace, "-c", "core.autocrlf=false", ...args],
      cwd: this.workspace,
      env: { ...gitEnv(this.storeDir), ...(index === undefined ? {} : { GIT_INDEX_FILE: index }) },
      timeoutMs: TIMEOUT_MS,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      ...(stdin === undefined ? {} : { stdin }),
    });
    if (outcome.end !== "exited" || outcome.exitCode !== 0) {
      throw new Error(`git ${args[0] ?? ""} failed (${outcome.end} ${String(outcome.exitCode)}): ${outcome.stderrTail.trim().slice(-2000)}`);
    }
    return outcome.stdoutTail;
  }
}

/** Isolated from the user's git setup exactly as ShadowGit is: no system or global config, a neutral HOME. */
function gitEnv(storeDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: storeDir,
    XDG_CONFIG_HOME: storeDir,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
  };
}

/** A workspace-relative path that cannot leave the workspace; anything else is a bug upstream. */
function safePath(path: string): string {
  const norm = normalize(path);
  if (path === "" || isAbsolute(path) || norm === ".." || norm.startsWith(`..${sep}`)) throw new Error(`not a path inside the workspace: ${JSON.stringify(path)}`);
  return path;
}

function assertObjectId(id: string): void {
  if (!OBJECT_ID.test(id)) throw new Error(`not a checkpoint id: ${JSON.stringify(id)}`);
}
