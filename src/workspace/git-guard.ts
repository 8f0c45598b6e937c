/**
 * Watches the user's own git repository around an attempt. The checkpoint store excludes `.git` (it must never write
 * there), so an agent that edits `.git/config`, adds a hook or commits changes no checkpointed file: without this,
 * such an attempt would be accepted without a word. Observing is read-only and cheap: a few small files are hashed,
 * HEAD is read, and the refs come from one `git for-each-ref` (a plumbing command that takes no lock); comparing runs
 * at most two `git rev-list --count`, and only when a ref moved.
 *
 * Only the workspace's own `.git` is observed (a directory, or a `.git` file followed to the directory it names), not
 * a repository above the workspace. Hooks are read from `hooks/` of the git directory: a `core.hooksPath` elsewhere is
 * not followed, but setting it is a config change and is reported as one.
 */
import { readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GitChanges, HookChange, RefChange } from "../core/git-changes.js";
import type { Transport } from "../transports/port.js";
import { fingerprint, fingerprintHooks, locateGitDir, readHead, type HookPrint } from "./git-dir.js";

export type { GitChanges, HookChange, RefChange } from "../core/git-changes.js";

/** The repository as one observation found it; plain data. */
export interface GitState {
  /** The git directory observed; "" when `.git` exists but names none (then `problem` says why). */
  readonly gitDir: string;
  /** Fingerprints (sha256) of `config`, `config.worktree`, `info/exclude`, `info/attributes`; a missing file has none. */
  readonly files: Readonly<Record<string, string>>;
  readonly hooks: Readonly<Record<string, HookPrint>>;
  /** What HEAD holds: a ref name, or an object id when detached; undefined when unreadable. */
  readonly head: string | undefined;
  /** Every ref under `refs/` → object id; undefined when git could not list them (`problem` says why). */
  readonly refs: Readonly<Record<string, string>> | undefined;
  /** Names, sizes, inodes and times of the ref files (`packed-refs`, `refs/**`): unchanged, the refs are too. */
  readonly refsPrint?: string;
  readonly problem?: string;
}

/** Each git process may take this long; listing refs or counting commits that takes longer is reported as unknown. */
const GIT_TIMEOUT_MS = 10_000;
/** Ref listings beyond this size (some 400,000 refs) are not read: the refs are reported as unobserved. */
const MAX_REF_OUTPUT = 32 * 1024 * 1024;
const WATCHED_FILES = ["config", "config.worktree", "info/exclude", "info/attributes"] as const;

/**
 * The repository of `workspaceDir` as it is now; undefined when the workspace has no `.git`. Never writes. With the
 * `previous` observation of the same workspace, refs whose files did not change are taken from it without running
 * git, so an attempt that leaves `.git` alone costs no git process.
 */
export async function observeGit(workspaceDir: string, transport: Transport, previous?: GitState): Promise<GitState | undefined> {
  const located = await locateGitDir(workspaceDir);
  if (located === undefined) return undefined;
  if (!located.ok) return { gitDir: "", files: {}, hooks: {}, head: undefined, refs: undefined, problem: located.problem };
  const { gitDir, commonDir } = located.dirs;
  // config.worktree belongs to one worktree (extensions.worktreeConfig); everything else is shared from the common dir.
  const where = (file: string): string => join(file === "config.worktree" ? gitDir : commonDir, file);
  const refsPrint = await fingerprintRefs(commonDir);
  const reuse = previous?.refs !== undefined && previous.gitDir === gitDir && previous.refsPrint === refsPrint;
  const [prints, hooks, head, refs] = await Promise.all([
    Promise.all(WATCHED_FILES.map(async (file) => [file, await fingerprint(where(file))] as const)),
    fingerprintHooks(join(commonDir, "hooks")),
    readHead(gitDir),
    reuse ? Promise.resolve({ ok: true as const, refs: previous.refs }) : listRefs(gitDir, transport),
  ]);
  const files: Record<string, string> = {};
  for (const [file, print] of prints) if (print !== undefined) files[file] = print;
  // Without HEAD no commit can be counted: say so rather than report none (a reftable repository keeps it elsewhere).
  const problems = [head === undefined ? "HEAD not readable" : undefined, refs.ok ? undefined : refs.problem].filter((p) => p !== undefined);
  return { gitDir, files, hooks, head, refs: refs.ok ? refs.refs : undefined, refsPrint, ...(problems.length === 0 ? {} : { problem: problems.join("; ") }) };
}

/** The stat data of every ref file: a ref update writes a new file (by rename) or rewrites packed-refs. */
async function fingerprintRefs(commonDir: string): Promise<string> {
  const parts: string[] = [];
  const note = async (path: string, name: string): Promise<void> => {
    const s = await stat(path).catch(() => undefined);
    if (s !== undefined) parts.push(`${name} ${String(s.ino)} ${String(s.size)} ${String(s.mtimeMs)}`);
  };
  await note(join(commonDir, "packed-refs"), "packed-refs");
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const name = `${prefix}/${entry.name}`;
      if (entry.isDirectory()) await walk(join(dir, entry.name), name);
      else await note(join(dir, entry.name), name);
    }
  };
  await walk(join(commonDir, "refs"), "refs");
  return parts.join("\n");
}

/**
 * What changed between two observations of one workspace; undefined when neither found a repository. Commits are
 * counted by git in `after`'s repository, so call this while that repository is still as `after` saw it.
 */
export async function compareGit(before: GitState | undefined, after: GitState | undefined, transport: Transport): Promise<GitChanges | undefined> {
  if (before === undefined && after === undefined) return undefined;
  if (after === undefined) return { ...NOTHING, repository: "removed", refs: refsBetween(before?.refs ?? {}, {}), lost: -1 };
  const base = before ?? EMPTY;
  const repository: GitChanges["repository"] = before === undefined ? "created" : before.gitDir !== after.gitDir ? "replaced" : undefined;
  const problem = [...new Set([before?.problem, after.problem].filter((p) => p !== undefined))].join("; ");
  const changes: GitChanges = {
    // A new repository's config and hooks are part of "created", not edits of their own.
    ...(repository === "created" ? NOTHING : setupBetween(base, after)),
    ...(repository === undefined ? {} : { repository }),
    branch: after.head?.startsWith("refs/heads/") === true ? after.head.slice("refs/heads/".length) : "",
    ...(problem === "" ? {} : { unobserved: problem }),
  };
  if (base.refs === undefined || after.refs === undefined) return { ...changes, commits: -1, lost: -1 };
  const refs = refsBetween(base.refs, after.refs);
  if (base.head !== after.head) refs.push({ ref: "HEAD", ...(base.head === undefined ? {} : { from: base.head }), ...(after.head === undefined ? {} : { to: after.head }) });
  if (refs.length === 0) return changes;
  const [commits, lost] = await Promise.all([countCommits(base, after, transport), countLost(base, after, refs, transport)]);
  return { ...changes, refs, commits, lost };
}

function setupBetween(before: GitState, after: GitState): GitChanges {
  const changed = (file: (typeof WATCHED_FILES)[number]): boolean => before.files[file] !== after.files[file];
  return {
    ...NOTHING,
    config: changed("config") || changed("config.worktree"),
    hooks: hooksBetween(before.hooks, after.hooks),
    exclude: changed("info/exclude"),
    attributes: changed("info/attributes"),
  };
}

/**
 * Observes the repository before an attempt and reports what the attempt changed after it. The workspace calls
 * `before()` when it takes the checkpoint an attempt starts from, and `after()` when it computes the change set. Each
 * attempt's `before()` observes afresh, so what a human does between attempts (a commit of their own while a
 * breakpoint waits) is never counted as the agent's. `after()` with no `before()` since the last `after()` compares
 * with that one; with none at all it only observes and returns undefined: nothing to compare with.
 */
export function gitChangesAround(workspaceDir: string, transport: Transport): { before(): Promise<void>; after(): Promise<GitChanges | undefined> } {
  let last: { readonly state: GitState | undefined } | undefined;
  return {
    async before() {
      last = { state: await observeGit(workspaceDir, transport, last?.state) };
    },
    async after() {
      const now = await observeGit(workspaceDir, transport, last?.state);
      const changes = last === undefined ? undefined : await compareGit(last.state, now, transport);
      last = { state: now };
      return changes;
    },
  };
}

const NOTHING: GitChanges = { config: false, hooks: [], exclude: false, attributes: false, refs: [], commits: 0, lost: 0, branch: "" };
const EMPTY: GitState = { gitDir: "", files: {}, hooks: {}, head: undefined, refs: {} };

function hooksBetween(before: Readonly<Record<string, HookPrint>>, after: Readonly<Record<string, HookPrint>>): HookChange[] {
  const changes: HookChange[] = [];
  for (const path of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const was = before[path];
    const is = after[path];
    if (was === undefined) changes.push({ path, status: "added" });
    else if (is === undefined) changes.push({ path, status: "deleted" });
    else if (was.sha256 !== is.sha256 || was.executable !== is.executable) changes.push({ path, status: "modified" });
  }
  return changes;
}

function refsBetween(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): RefChange[] {
  const changes: RefChange[] = [];
  for (const [ref, from] of Object.entries(before)) {
    const to = after[ref];
    if (to !== from) changes.push(to === undefined ? { ref, from } : { ref, from, to });
  }
  for (const [ref, to] of Object.entries(after)) if (before[ref] === undefined) changes.push({ ref, to });
  return changes.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}

/** The object HEAD resolves to in `state`. */
function headObject(state: GitState): string | undefined {
  if (state.head === undefined || !state.head.startsWith("refs/")) return state.head;
  return state.refs?.[state.head];
}

/** Commits HEAD reaches now that neither HEAD nor HEAD's branch reached before: the ones the attempt made. */
async function countCommits(before: GitState, after: GitState, transport: Transport): Promise<number> {
  const now = headObject(after);
  if (now === undefined) return 0;
  const known = [headObject(before), after.head === undefined ? undefined : before.refs?.[after.head]].filter((o): o is string => o !== undefined);
  if (known.includes(now)) return 0;
  return count(await git(after.gitDir, ["rev-list", "--count", now, ...known.map((o) => `^${o}`)], transport));
}

/** Commits that a branch or a detached HEAD held before and that no ref reaches now (they live on in the reflog). */
async function countLost(before: GitState, after: GitState, refs: readonly RefChange[], transport: Transport): Promise<number> {
  const tips = refs.flatMap((r) => (r.ref.startsWith("refs/heads/") && r.from !== undefined ? [r.from] : []));
  const wasDetached = before.head !== undefined && !before.head.startsWith("refs/");
  if (wasDetached && before.head !== after.head) tips.push(before.head);
  if (tips.length === 0) return 0;
  // The old tips on stdin (a fetch can move thousands of refs), every ref of now (`--all`, HEAD included) excluded.
  return count(await git(after.gitDir, ["rev-list", "--count", "--not", "--all", "--stdin"], transport, `${[...new Set(tips)].join("\n")}\n`));
}

function count(result: GitResult): number {
  const n = result.ok ? Number.parseInt(result.stdout.trim(), 10) : Number.NaN;
  return Number.isInteger(n) ? n : -1;
}

async function listRefs(gitDir: string, transport: Transport): Promise<{ ok: true; refs: Record<string, string> } | { ok: false; problem: string }> {
  const result = await git(gitDir, ["for-each-ref", "--format=%(objectname) %(refname)"], transport);
  if (!result.ok) return { ok: false, problem: `refs not read: ${result.problem}` };
  const refs: Record<string, string> = {};
  for (const line of result.stdout.split("\n")) {
    const space = line.indexOf(" ");
    // Ref names contain no space (git refuses them), so the first one ends the object id.
    if (space > 0) refs[line.slice(space + 1)] = line.slice(0, space);
  }
  return { ok: true, refs };
}

type GitResult = { readonly ok: true; readonly stdout: string } | { readonly ok: false; readonly problem: string };

/**
 * One read-only git command in `gitDir`, through the transport. Isolated from the user's system and global git
 * configuration; the repository's own config is read (git cannot be told not to) but these commands run nothing it
 * could name, and `core.fsmonitor` is switched off besides. `--no-optional-locks`: not even the optional index refresh.
 */
async function git(gitDir: string, args: readonly string[], transport: Transport, stdin?: string): Promise<GitResult> {
  const outcome = await transport.run({
    command: "git",
    args: ["--no-optional-locks", "--no-replace-objects", "-c", "core.fsmonitor=false", "--git-dir", gitDir, ...args],
    cwd: gitDir,
    env: {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: tmpdir(),
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_PAGER: "cat",
      LC_ALL: "C",
    },
    ...(stdin === undefined ? {} : { stdin }),
    timeoutMs: GIT_TIMEOUT_MS,
    maxOutputBytes: MAX_REF_OUTPUT,
  });
  if (outcome.end !== "exited" || outcome.exitCode !== 0) {
    const why = outcome.end === "exited" ? `exit ${String(outcome.exitCode)}` : outcome.end === "spawn-error" ? `could not start git (${outcome.error ?? ""})` : outcome.end;
    return { ok: false, problem: `git ${args[0] ?? ""} failed (${why})${outcome.stderrTail.trim() === "" ? "" : `: ${outcome.stderrTail.trim().slice(-500)}`}` };
  }
  if (outcome.droppedBytes > 0) return { ok: false, problem: `git ${args[0] ?? ""} printed more than ${String(MAX_REF_OUTPUT >> 20)} MiB` };
  return { ok: true, stdout: outcome.stdoutTail };
}
