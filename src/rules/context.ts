/**
 * The typed context a rule's `when:` sees (documented field by field in docs/rules.md). Every signal is computed here
 * from what orc already recorded (the diff, gate evidence, earlier attempts in the DB): no token is spent on it.
 * Keys are snake_case because users type them in YAML. Numbers are never null (CEL refuses `null > 1`): an unknown
 * count is -1 and a missing object is present with zeros and a `reported`/`present` flag.
 */
import type { AgentOutcome, FileChange, GateOutcome, JudgeVerdict, TestCounts } from "../core/events.js";
import { describeGitSetup, type GitChanges } from "../core/git-changes.js";
import type { RuleHook, TaskSpec } from "../core/pipeline.js";
import type { AttemptRow } from "../state/port.js";
import { checkClaims, describeContradiction, isTestPath } from "../core/claims.js";
import { globMatcher } from "../core/glob.js";

export { isTestPath };

export interface TestsContext {
  readonly reported: boolean;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
}

export interface FileContext {
  readonly path: string;
  readonly status: "added" | "modified" | "deleted";
  readonly added: number;
  readonly removed: number;
  readonly binary: boolean;
  readonly is_test: boolean;
  readonly protected: boolean;
}

/**
 * `changes.git`: what the attempt changed in the workspace's own `.git`, which no checkpoint (and so no path in
 * `changes.paths`) records. Empty, false and 0 when the workspace is not a git repository or nothing was observed.
 */
export interface GitFacts {
  /** A repository was observed, before or after the attempt. */
  readonly observed: boolean;
  /** Anything below changed. */
  readonly changed: boolean;
  /** `created`, `removed`, `replaced`, or "" when the same repository. */
  readonly repository: string;
  readonly config: boolean;
  /** Hooks added, changed or removed (names under the hooks directory, `*.sample` ignored). */
  readonly hooks: readonly string[];
  readonly exclude: boolean;
  readonly attributes: boolean;
  /** The changes to git's set-up (repository, config, hooks, info files) in words: `changed .git/config`, `added hook pre-commit`. */
  readonly setup: readonly string[];
  /** Refs created, moved or deleted (`refs/heads/main`; `HEAD` when it switched branch or, detached, moved). */
  readonly refs: readonly string[];
  /** The commits the attempt made (new on HEAD); -1 when unknown. */
  readonly commits: number;
  /** Commits a branch held before that no ref reaches now (a reset, rebase, amend, deleted branch); -1 when unknown. */
  readonly lost: number;
  /** The branch HEAD is on after the attempt; "" when detached or unknown. */
  readonly branch: string;
}

/** The rule-facing view of one gate's result: `gates.<name>` in a `when:`. */
export interface GateFacts {
  readonly passed: boolean;
  readonly kind: string;
  readonly exit_code: number;
  readonly end: string;
  readonly summary: string;
  readonly output_tail: string;
  readonly tests: TestsContext;
}

export interface RuleContext {
  readonly hook: RuleHook;
  readonly task: { readonly id: string; readonly max_attempts: number; readonly protect: readonly string[]; readonly gates: readonly string[] };
  readonly attempt: number;
  /** What orc decided before the rules: accept, retry or fail ("none" at before_task). */
  readonly decision: string;
  readonly reasons: readonly string[];
  readonly agent: {
    readonly ran: boolean;
    readonly ok: boolean;
    readonly exit_code: number;
    readonly end: string;
    readonly duration_ms: number;
    readonly claims: string;
    readonly output_tail: string;
    readonly cost_usd: number;
    readonly tokens: number;
    /** The agent reported an error (claude-code `is_error`, an API error of another CLI). */
    readonly is_error: boolean;
    readonly permission_denials: number;
    /** The run ended on a rate, usage or overload limit that lifts later than `agent.limits.max_wait`. */
    readonly limited: boolean;
    /** `rate`, `usage`, `overloaded`, or "" when not limited. */
    readonly limit_kind: string;
    /** When the limit lifts (ISO 8601), "" when unknown. */
    readonly limit_reset_at: string;
  };
  readonly changes: {
    readonly count: number;
    readonly lines_changed: number;
    readonly added: number;
    readonly removed: number;
    readonly files: readonly FileContext[];
    readonly paths: readonly string[];
    readonly deleted: readonly string[];
    readonly created: readonly string[];
    readonly test_files: readonly string[];
    readonly deleted_tests: readonly string[];
    /** Lines added to / removed from test files (without the +/- marker), from the checkpoint diff. */
    readonly tests: { readonly added_lines: readonly string[]; readonly removed_lines: readonly string[]; readonly patch: string };
    readonly git: GitFacts;
  };
  /** Changed paths that match the task's `protect:` globs. */
  readonly protected: readonly string[];
  readonly gates: Readonly<Record<string, GateFacts>>;
  readonly gates_failed: readonly string[];
  /** Test counts summed over the gates that wrote a report. */
  readonly tests: TestsContext;
  /** The first judge gate's verdict (`present` false when no judge ran); `needs_human` is true if any judge asked. */
  readonly verdict: {
    readonly present: boolean;
    /** pass | fail | needs_human | none */
    readonly verdict: string;
    readonly needs_human: boolean;
    readonly confidence: number;
    readonly issues: readonly string[];
    readonly contradicted_claims: readonly string[];
    readonly summary: string;
  };
  /** The agent's final message checked against the change set and the gates (src/core/claims.ts). */
  readonly claims: {
    /** Sentences that claim something orc can check. */
    readonly made: readonly string[];
    /** `"<claim>": <what orc saw instead>`, one per contradicted claim. */
    readonly contradictions: readonly string[];
    /** Kinds of the contradictions: tests-pass, tests-added, file-changed, no-change. */
    readonly kinds: readonly string[];
    /** Claims nothing could check ("tests pass" with no command gate). */
    readonly unverified: readonly string[];
  };
  readonly cost: { readonly attempt_usd: number; readonly task_usd: number; readonly run_usd: number; readonly tokens: number };
  readonly time: { readonly attempt_ms: number; readonly task_ms: number; readonly run_ms: number };
  readonly history: {
    /** Earlier decided attempts of this task. */
    readonly attempts: number;
    /** How many earlier attempts, counting back from the last, failed with the same evidence as this one. */
    readonly same_failure_count: number;
    /** Earlier attempts in a row (counting back) that changed no file. */
    readonly no_change_count: number;
    /** This attempt changed exactly the files, with the same line counts, as the previous one. */
    readonly same_diff: boolean;
    /** The most tests any earlier attempt's reports counted; -1 when none reported. */
    readonly previous_tests_total: number;
    /** Earlier attempts in a row (counting back) in which a judge gate could not reach a verdict. */
    readonly judge_errors: number;
  };
  /** The task's command gates before its first attempt (`ran` false with `baseline: false` or none recorded). */
  readonly baseline: {
    readonly ran: boolean;
    /** Summed over the baseline's gates that counted tests. */
    readonly tests: TestsContext;
    readonly gates: Readonly<Record<string, { readonly passed: boolean; readonly tests: TestsContext }>>;
    /** Gates that failed on the untouched workspace and pass now. */
    readonly failing_now_passing: readonly string[];
  };
  readonly signals: {
    /** Some gate counted fewer tests than it did in the baseline (none counts as zero). */
    readonly fewer_tests_than_baseline: boolean;
    /**
     * The attempt changed files other than tests, yet every baseline gate ended exactly as before (same pass or fail,
     * same test counts): no test saw the change.
     */
    readonly untested_change: boolean;
    readonly repeated_failure: boolean;
    readonly identical_diff: boolean;
    readonly no_change: boolean;
    readonly no_progress: boolean;
    readonly fewer_tests: boolean;
    /** A judge gate of this attempt could not reach a verdict (crashed, timed out, no model). */
    readonly judge_error: boolean;
    /** The agent's final message claims something the evidence contradicts (`claims.contradictions`). */
    readonly claims_contradicted: boolean;
  };
}

function judgeError(gates: readonly GateOutcome[]): boolean {
  return gates.some((g) => g.kind === "judge" && g.end !== "exited");
}

export function verdictOf(gate: GateOutcome): JudgeVerdict | undefined {
  return gate.verdict;
}

function agentCost(agent: AgentOutcome | undefined): { usd: number; tokens: number } {
  const a = agent as (AgentOutcome & { costUsd?: number; tokens?: Partial<Record<string, number>> }) | undefined;
  const usd = typeof a?.costUsd === "number" ? a.costUsd : 0;
  const tokens = a?.tokens === undefined ? 0 : Object.values(a.tokens).reduce<number>((n, v) => n + (typeof v === "number" ? v : 0), 0);
  return { usd, tokens };
}

function testsOf(counts: TestCounts | undefined): TestsContext {
  return counts === undefined ? { reported: false, passed: 0, failed: 0, skipped: 0, total: 0 } : { reported: true, ...counts };
}

function sumTests(gates: readonly GateOutcome[]): TestsContext {
  const reported = gates.filter((g) => g.tests !== undefined);
  const sum = (key: keyof TestCounts): number => reported.reduce((n, g) => n + (g.tests?.[key] ?? 0), 0);
  return { reported: reported.length > 0, passed: sum("passed"), failed: sum("failed"), skipped: sum("skipped"), total: sum("total") };
}

/** Evidence of a failure with the noise that differs between identical failures (timings, durations) taken out. */
export function failureSignature(gates: readonly GateOutcome[], agent: AgentOutcome | undefined): string {
  // Timings differ between two runs of the same failing test: durations and decimal numbers are masked.
  const strip = (text: string): string =>
    text
      .replace(/\d+(\.\d+)?\s*(ms|s|m)\b/g, "#")
      .replace(/\d+\.\d+/g, "#")
      .replace(/\s+/g, " ")
      .trim()
      .slice(-2_000);
  const failed = gates.filter((g) => !g.passed).map((g) => `${g.gate}:${g.exitCode ?? "-"}:${strip(g.outputTail)}`);
  if (failed.length > 0) return failed.join("\n");
  if (agent !== undefined && (agent.end !== "exited" || agent.exitCode !== 0)) return `agent:${agent.end}:${agent.exitCode ?? "-"}:${strip(agent.outputTail)}`;
  return "";
}

function diffSignature(files: readonly FileChange[]): string {
  return files.map((f) => `${f.path}:${f.status}:${f.added}:${f.removed}`).join("\n");
}

/** Splits a unified diff into the lines added and removed (headers left out). */
export function patchLines(patch: string): { added: string[]; removed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  for (const line of patch.split("\n")) {
    if (line.startsWith("+++") || line.startsWith("---")) continue;
    if (line.startsWith("+")) added.push(line.slice(1));
    else if (line.startsWith("-")) removed.push(line.slice(1));
  }
  return { added, removed };
}

export interface ContextInput {
  readonly hook: RuleHook;
  readonly task: TaskSpec;
  readonly attempt: number;
  readonly decision: string;
  readonly reasons: readonly string[];
  readonly agent: AgentOutcome | undefined;
  readonly files: readonly FileChange[];
  /** What the attempt changed in the workspace's `.git` (the change set's `git`); absent when not observed. */
  readonly git?: GitChanges | undefined;
  readonly protectedTouched: readonly string[];
  readonly gates: readonly GateOutcome[];
  /** Unified diff of the changed test files ("" when none or unknown). */
  readonly testPatch: string;
  /** Earlier attempts of this task, from the DB (only decided ones count). */
  readonly earlier: readonly AttemptRow[];
  /** Cost of every earlier attempt of the run (all tasks). */
  readonly runCostUsd: number;
  readonly times: { readonly attemptStart: number; readonly taskStart: number; readonly runStart: number; readonly now: number };
  /** The task's baseline gate results (src/run/baseline.ts); absent or empty when none ran. */
  readonly baseline?: readonly GateOutcome[];
}

export function buildRuleContext(input: ContextInput): RuleContext {
  const earlier = input.earlier.filter((a) => a.status === "decided" && a.attempt < input.attempt);
  const tests = sumTests(input.gates);
  const history = historyFacts(input, earlier);
  const claims = claimFacts(input);
  return {
    hook: input.hook,
    task: taskFacts(input.task),
    attempt: input.attempt,
    decision: input.decision,
    reasons: input.reasons,
    agent: agentFacts(input.agent),
    changes: { ...changeFacts(input.files, input.task.protect, input.testPatch), git: gitFacts(input.git) },
    protected: input.protectedTouched,
    gates: gateFactsByName(input.gates),
    gates_failed: input.gates.filter((g) => !g.passed).map((g) => g.gate),
    tests,
    verdict: verdictFacts(input.gates),
    claims,
    cost: costFacts(input, earlier),
    time: timeFacts(input.times),
    history,
    baseline: baselineFacts(input.baseline ?? [], input.gates),
    signals: {
      ...signalFacts(input, tests, history),
      claims_contradicted: claims.contradictions.length > 0,
      fewer_tests_than_baseline: fewerThanBaseline(input.baseline ?? [], input.gates),
      untested_change: untestedChange(input.baseline ?? [], input.gates, input.files),
    },
  };
}

/** Nothing to check before the agent ran: a before_task context has no claims. */
function claimFacts(input: ContextInput): RuleContext["claims"] {
  if (input.agent === undefined) return { made: [], contradictions: [], kinds: [], unverified: [] };
  const check = checkClaims(input.agent.claims, input.files, input.gates);
  return {
    made: check.claims,
    contradictions: check.contradictions.map(describeContradiction),
    kinds: check.contradictions.map((c) => c.kind),
    unverified: check.unverified,
  };
}

function taskFacts(task: TaskSpec): RuleContext["task"] {
  return { id: task.id, max_attempts: task.maxAttempts, protect: task.protect, gates: task.gates };
}

function agentFacts(agent: AgentOutcome | undefined): RuleContext["agent"] {
  const cost = agentCost(agent);
  return {
    ran: agent !== undefined,
    ok: agent !== undefined && agent.end === "exited" && agent.exitCode === 0,
    exit_code: agent?.exitCode ?? -1,
    end: agent?.end ?? "none",
    duration_ms: agent?.durationMs ?? 0,
    claims: agent?.claims ?? "",
    output_tail: agent?.outputTail ?? "",
    cost_usd: cost.usd,
    tokens: cost.tokens,
    is_error: agent?.isError === true,
    permission_denials: agent?.permissionDenials?.length ?? 0,
    limited: agent?.limit !== undefined,
    limit_kind: agent?.limit?.kind ?? "",
    limit_reset_at: agent?.limit?.resetAt ?? "",
  };
}

function changeFacts(files: readonly FileChange[], protect: readonly string[], testPatch: string): Omit<RuleContext["changes"], "git"> {
  const isProtected = protect.length === 0 ? () => false : globMatcher(protect);
  const fileFacts: FileContext[] = files.map((f) => ({ ...f, is_test: isTestPath(f.path), protected: isProtected(f.path) }));
  const patch = patchLines(testPatch);
  return {
    count: files.length,
    lines_changed: files.reduce((n, f) => n + f.added + f.removed, 0),
    added: files.reduce((n, f) => n + f.added, 0),
    removed: files.reduce((n, f) => n + f.removed, 0),
    files: fileFacts,
    paths: files.map((f) => f.path),
    deleted: files.filter((f) => f.status === "deleted").map((f) => f.path),
    created: files.filter((f) => f.status === "added").map((f) => f.path),
    test_files: fileFacts.filter((f) => f.is_test).map((f) => f.path),
    deleted_tests: fileFacts.filter((f) => f.is_test && f.status === "deleted").map((f) => f.path),
    tests: { added_lines: patch.added, removed_lines: patch.removed, patch: testPatch },
  };
}

function gitFacts(git: GitChanges | undefined): GitFacts {
  if (git === undefined) {
    return { observed: false, changed: false, repository: "", config: false, hooks: [], exclude: false, attributes: false, setup: [], refs: [], commits: 0, lost: 0, branch: "" };
  }
  const setup = describeGitSetup(git);
  return {
    observed: true,
    changed: setup.length > 0 || git.refs.length > 0 || git.commits > 0 || git.lost > 0,
    repository: git.repository ?? "",
    config: git.config,
    hooks: git.hooks.map((h) => h.path),
    exclude: git.exclude,
    attributes: git.attributes,
    setup,
    refs: git.refs.map((r) => r.ref),
    commits: git.commits,
    lost: git.lost,
    branch: git.branch,
  };
}

function gateFactsByName(gates: readonly GateOutcome[]): Record<string, GateFacts> {
  const byName: Record<string, GateFacts> = {};
  for (const g of gates) {
    byName[g.gate] = {
      passed: g.passed,
      kind: g.kind,
      exit_code: g.exitCode ?? -1,
      end: g.end,
      summary: g.summary,
      output_tail: g.outputTail,
      tests: testsOf(g.tests),
    };
  }
  return byName;
}

function verdictFacts(gates: readonly GateOutcome[]): RuleContext["verdict"] {
  const verdicts = gates.map(verdictOf).filter((v): v is JudgeVerdict => v !== undefined);
  const verdict = verdicts[0];
  return {
    present: verdict !== undefined,
    verdict: verdict?.verdict ?? "none",
    needs_human: verdicts.some((v) => v.needsHuman),
    confidence: verdict?.confidence ?? -1,
    issues: verdict?.issues ?? [],
    contradicted_claims: verdict?.contradictedClaims ?? [],
    summary: verdict === undefined ? "" : [verdict.verdict, ...verdict.issues, ...verdict.contradictedClaims.map((c) => `contradicted: ${c}`)].join("; "),
  };
}

function costFacts(input: ContextInput, earlier: readonly AttemptRow[]): RuleContext["cost"] {
  const cost = agentCost(input.agent);
  const earlierUsd = earlier.reduce((n, a) => n + agentCost(a.agent).usd, 0);
  return { attempt_usd: cost.usd, task_usd: earlierUsd + cost.usd, run_usd: input.runCostUsd + cost.usd, tokens: cost.tokens };
}

function timeFacts(times: ContextInput["times"]): RuleContext["time"] {
  return { attempt_ms: times.now - times.attemptStart, task_ms: times.now - times.taskStart, run_ms: times.now - times.runStart };
}

/** This attempt against the earlier decided ones of the same task, most of it counted back from the latest. */
function historyFacts(input: ContextInput, earlier: readonly AttemptRow[]): RuleContext["history"] {
  const latestFirst = [...earlier].reverse();
  const signature = failureSignature(input.gates, input.agent);
  const last = earlier.at(-1);
  const previousTotals = earlier.map((a) => sumTests(a.gates)).filter((t) => t.reported).map((t) => t.total);
  return {
    attempts: earlier.length,
    same_failure_count: signature === "" ? 0 : countLeading(latestFirst, (a) => failureSignature(a.gates, a.agent) === signature),
    no_change_count: countLeading(latestFirst, (a) => (a.changes?.files.length ?? 0) === 0),
    same_diff: input.files.length > 0 && last !== undefined && diffSignature(last.changes?.files ?? []) === diffSignature(input.files),
    previous_tests_total: previousTotals.length === 0 ? -1 : Math.max(...previousTotals),
    judge_errors: countLeading(latestFirst, (a) => judgeError(a.gates)),
  };
}

function baselineFacts(baseline: readonly GateOutcome[], gates: readonly GateOutcome[]): RuleContext["baseline"] {
  const byName: Record<string, { passed: boolean; tests: TestsContext }> = {};
  for (const b of baseline) byName[b.gate] = { passed: b.passed, tests: testsOf(b.tests) };
  const fixed = gates.filter((g) => g.passed && byName[g.gate]?.passed === false).map((g) => g.gate);
  return { ran: baseline.length > 0, tests: sumTests(baseline), gates: byName, failing_now_passing: fixed };
}

function untestedChange(baseline: readonly GateOutcome[], gates: readonly GateOutcome[], files: readonly FileChange[]): boolean {
  if (baseline.length === 0 || !files.some((f) => !isTestPath(f.path))) return false;
  const same = (a: GateOutcome["tests"], b: GateOutcome["tests"]): boolean =>
    a !== undefined && b !== undefined && a.passed === b.passed && a.failed === b.failed && a.skipped === b.skipped && a.total === b.total;
  return baseline.every((b) => {
    const now = gates.find((g) => g.gate === b.gate);
    return now !== undefined && now.passed === b.passed && same(now.tests, b.tests);
  });
}

function fewerThanBaseline(baseline: readonly GateOutcome[], gates: readonly GateOutcome[]): boolean {
  return gates.some((g) => {
    const before = baseline.find((b) => b.gate === g.gate)?.tests?.total ?? 0;
    return before > 0 && (g.tests?.total ?? 0) < before;
  });
}

function signalFacts(input: ContextInput, tests: TestsContext, history: RuleContext["history"]): Omit<RuleContext["signals"], "claims_contradicted" | "fewer_tests_than_baseline" | "untested_change"> {
  const changedNothing = input.agent !== undefined && input.files.length === 0;
  return {
    repeated_failure: history.same_failure_count > 0,
    identical_diff: history.same_diff,
    no_change: changedNothing,
    no_progress: changedNothing && history.no_change_count > 0,
    fewer_tests: tests.reported && history.previous_tests_total >= 0 && tests.total < history.previous_tests_total,
    judge_error: judgeError(input.gates),
  };
}

/** How many items, from the first, satisfy `holds` before the first that does not. */
function countLeading<T>(items: readonly T[], holds: (item: T) => boolean): number {
  const firstMiss = items.findIndex((item) => !holds(item));
  return firstMiss === -1 ? items.length : firstMiss;
}

/** A context with every field at its neutral value: the base that `orc rules test` fixtures and dry runs override. */
export function emptyRuleContext(hook: RuleHook = "after_attempt"): RuleContext {
  const now = Date.now();
  return buildRuleContext({
    hook,
    task: { id: "task", prompt: { path: "builtin:fixture", source: "" }, needs: [], gates: [], maxAttempts: 3, priority: 0, protect: [], agent: { kind: "command", timeoutMs: 0, inactivityTimeoutMs: 0, env: {}, options: {} } },
    attempt: 1,
    decision: "accept",
    reasons: [],
    agent: { exitCode: 0, signal: null, end: "exited", durationMs: 0, outputTail: "", claims: "" },
    files: [],
    protectedTouched: [],
    gates: [],
    testPatch: "",
    earlier: [],
    runCostUsd: 0,
    times: { attemptStart: now, taskStart: now, runStart: now, now },
  });
}
