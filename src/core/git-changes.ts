/**
 * What an attempt changed in the user's own git repository (`.git`: its config, hooks, info files and refs). The
 * checkpoint store never records `.git`, so these changes cannot show up as changed files: the workspace observes
 * them separately (src/workspace/git-guard.ts) and they reach the rules as `changes.git` and the records with
 * `changes.detected`. Plain data, so a change set stays JSON.
 */

export interface HookChange {
  /** Relative to the hooks directory: `pre-commit`, `_/husky.sh`. */
  readonly path: string;
  /** `modified` includes a hook made executable or not. */
  readonly status: "added" | "modified" | "deleted";
}

/**
 * A ref under `refs/` created (no `from`), deleted (no `to`) or moved, with object ids. `HEAD` is listed only when it
 * switched: its `from`/`to` are what HEAD held, a ref name (`refs/heads/main`) on a branch, an object id when detached.
 * HEAD following its branch as the branch moves is that branch's change.
 */
export interface RefChange {
  readonly ref: string;
  readonly from?: string;
  readonly to?: string;
}

export interface GitChanges {
  /** The repository itself: `created` (git init), `removed` (`.git` is gone), `replaced` (`.git` names another git directory). */
  readonly repository?: "created" | "removed" | "replaced";
  /** `.git/config` (or a worktree's `config.worktree`) changed. */
  readonly config: boolean;
  /** Hooks added, changed or removed; `*.sample` files are ignored (git never runs them). */
  readonly hooks: readonly HookChange[];
  /** `.git/info/exclude` changed: what git ignores, outside any tracked file. */
  readonly exclude: boolean;
  /** `.git/info/attributes` changed: filters, diff and merge drivers, outside any tracked file. */
  readonly attributes: boolean;
  readonly refs: readonly RefChange[];
  /** Commits HEAD reaches now that neither HEAD nor its branch reached before (the agent's commits); -1 when unknown. */
  readonly commits: number;
  /** Commits a branch (or a detached HEAD) held before that no ref reaches any more: a reset, rebase, amend or deleted branch; -1 when unknown. */
  readonly lost: number;
  /** The branch HEAD is on afterwards (`main`); "" when detached or unknown. */
  readonly branch: string;
  /** What could not be observed, and why (refs unreadable, a `.git` file that names no git directory); absent when all was. */
  readonly unobserved?: string;
}

/**
 * The changes to git's own set-up (the repository, config, hooks, info files) in words, one phrase each:
 * `changed .git/config`, `added hook pre-commit`. Refs and commits are left out: they are git's ordinary work.
 */
export function describeGitSetup(changes: GitChanges): string[] {
  const phrases: string[] = [];
  if (changes.repository === "created") phrases.push("created a git repository (.git)");
  if (changes.repository === "removed") phrases.push("removed the git repository (.git)");
  if (changes.repository === "replaced") phrases.push("replaced .git with another git directory");
  if (changes.config) phrases.push("changed .git/config");
  for (const hook of changes.hooks) phrases.push(`${hook.status === "modified" ? "changed" : hook.status === "added" ? "added" : "removed"} hook ${hook.path}`);
  if (changes.exclude) phrases.push("changed .git/info/exclude");
  if (changes.attributes) phrases.push("changed .git/info/attributes");
  return phrases;
}

/** Everything in `changes` in words (set-up, commits, lost commits, HEAD, other refs), for a log line; "" when nothing changed. */
export function describeGitChanges(changes: GitChanges): string {
  const phrases = describeGitSetup(changes);
  const on = changes.branch === "" ? "a detached HEAD" : changes.branch;
  // The ref the commits moved (the branch, or a detached HEAD) is told by the commits.
  const movedByCommits = changes.commits > 0 ? (changes.branch === "" ? "HEAD" : `refs/heads/${changes.branch}`) : undefined;
  const head = changes.refs.find((r) => r.ref === "HEAD");
  if (head !== undefined && head.ref !== movedByCommits) phrases.push(head.to?.startsWith("refs/heads/") === true ? `switched to ${head.to.slice("refs/heads/".length)}` : "moved HEAD");
  if (changes.commits > 0) phrases.push(`made ${plural(changes.commits, "commit")} on ${on}`);
  if (changes.lost > 0) phrases.push(`left ${plural(changes.lost, "commit")} on no branch`);
  const otherRefs = changes.refs.filter((r) => r.ref !== "HEAD" && r.ref !== movedByCommits);
  if (otherRefs.length > 0) phrases.push(`changed ${plural(otherRefs.length, "ref")} (${otherRefs.slice(0, 3).map((r) => r.ref).join(", ")}${otherRefs.length > 3 ? ", …" : ""})`);
  return phrases.join(", ");
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? "" : "s"}`;
}
