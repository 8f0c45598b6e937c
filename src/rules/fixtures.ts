/**
 * `orc rules test`: a pack's fixtures are attempt contexts with the decision the pack must reach on each. A case gives
 * `input` (what an attempt produced: files, test diff, gates, earlier attempts; turned into the context by the same
 * code a run uses, so derived signals are computed for real) and/or `context` (fields of the context set directly,
 * merged over it), and `expect`: accept | warn | reject | pause | fail, optionally `rules:` (exactly which fire).
 */
import type { AgentOutcome, FileChange, GateOutcome } from "../core/events.js";
import type { GitChanges, HookChange, RefChange } from "../core/git-changes.js";
import type { RuleHook, RuleSpec, TaskSpec } from "../core/pipeline.js";
import type { AttemptRow } from "../state/port.js";
import { buildRuleContext, type RuleContext } from "./context.js";
import { evaluateRules, hooksAfter, strictest, type FiredRule } from "./engine.js";

export const EXPECTATIONS = ["accept", "warn", "reject", "pause", "fail"] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

export interface FixtureCase {
  readonly name: string;
  readonly line: number;
  readonly input: Record<string, unknown>;
  readonly context: Record<string, unknown>;
  readonly expect: Expectation;
  readonly rules?: readonly string[];
}

export interface CaseResult {
  readonly case: FixtureCase;
  readonly pass: boolean;
  readonly actual: Expectation;
  readonly fired: readonly FiredRule[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown, d: number): number => (typeof v === "number" ? v : d);
const str = (v: unknown, d: string): string => (typeof v === "string" ? v : d);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);

function fileOf(v: unknown): FileChange {
  const f = isObj(v) ? v : {};
  const status = str(f.status, "modified");
  return {
    path: str(f.path, "file"),
    status: status === "added" || status === "deleted" ? status : "modified",
    added: num(f.added, 0),
    removed: num(f.removed, 0),
    binary: f.binary === true,
  };
}

/**
 * `input.git`: what the attempt did to `.git`, as a change set carries it. Hooks are names (`pre-commit`, taken as
 * added) or `{path, status}`; refs are names or `{ref, from, to}`.
 */
const REPOSITORY_CHANGES = ["created", "removed", "replaced"] as const;

function gitOf(v: unknown): GitChanges | undefined {
  if (!isObj(v)) return undefined;
  const hook = (h: unknown): HookChange => {
    const o = isObj(h) ? h : { path: h };
    const status = str(o.status, "added");
    return { path: str(o.path, "hook"), status: status === "modified" || status === "deleted" ? status : "added" };
  };
  const ref = (r: unknown): RefChange => {
    const o = isObj(r) ? r : { ref: r };
    return { ref: str(o.ref, "refs/heads/main"), ...(typeof o.from === "string" ? { from: o.from } : {}), ...(typeof o.to === "string" ? { to: o.to } : {}) };
  };
  const repository = REPOSITORY_CHANGES.find((r) => r === v.repository);
  return {
    ...(repository === undefined ? {} : { repository }),
    config: v.config === true,
    hooks: list(v.hooks).map(hook),
    exclude: v.exclude === true,
    attributes: v.attributes === true,
    refs: list(v.refs).map(ref),
    commits: num(v.commits, 0),
    lost: num(v.lost, 0),
    branch: str(v.branch, ""),
  };
}

function gateOf(v: unknown): GateOutcome {
  const g = isObj(v) ? v : {};
  const passed = g.passed !== false;
  const tests = isObj(g.tests)
    ? { passed: num(g.tests.passed, 0), failed: num(g.tests.failed, 0), skipped: num(g.tests.skipped, 0), total: num(g.tests.total, 0) }
    : undefined;
  const base = {
    gate: str(g.id, "tests"),
    kind: g.kind === "judge" ? ("judge" as const) : ("command" as const),
    passed,
    exitCode: typeof g.exit_code === "number" ? g.exit_code : passed ? 0 : 1,
    end: g.end === undefined ? ("exited" as const) : (str(g.end, "exited") as GateOutcome["end"]),
    durationMs: 0,
    outputTail: str(g.output_tail, ""),
    summary: str(g.summary, passed ? "passed" : "failed"),
    ...(tests === undefined ? {} : { tests }),
  };
  if (!isObj(g.verdict)) return base;
  const j = g.verdict;
  const verdict = str(j.verdict, "fail");
  return {
    ...base,
    kind: "judge",
    verdict: {
      verdict: verdict === "pass" || verdict === "needs_human" ? verdict : "fail",
      confidence: num(j.confidence, 0.5),
      issues: list(j.issues).map((x) => str(x, "")),
      contradictedClaims: list(j.contradicted_claims).map((x) => str(x, "")),
      needsHuman: j.needs_human === true || verdict === "needs_human",
    },
  };
}

function agentOf(v: unknown): AgentOutcome {
  const a = isObj(v) ? v : {};
  const exitCode = typeof a.exit_code === "number" ? a.exit_code : 0;
  const outcome: AgentOutcome = { exitCode, signal: null, end: a.end === undefined ? "exited" : (str(a.end, "exited") as AgentOutcome["end"]), durationMs: 0, outputTail: str(a.output_tail, ""), claims: str(a.claims, "") };
  return typeof a.cost_usd === "number" ? { ...outcome, costUsd: a.cost_usd } : outcome;
}

function earlierOf(v: unknown, index: number): AttemptRow {
  const e = isObj(v) ? v : {};
  const files = list(e.files).map(fileOf);
  return {
    attempt: index + 1,
    status: "decided",
    startedAt: new Date(0).toISOString(),
    prompt: "",
    agent: agentOf(e.agent),
    changes: { files, linesChanged: files.reduce((n, f) => n + f.added + f.removed, 0) },
    gates: list(e.gates).map(gateOf),
    reasons: [],
    decision: "retry",
  };
}

function merge(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** The context a case describes: its input through buildRuleContext, then its `context` merged over. */
export function caseContext(c: FixtureCase): { hook: RuleHook; context: RuleContext } {
  const i = c.input;
  const hook = str(i.hook, "after_attempt") as RuleHook;
  const earlier = list(i.earlier).map(earlierOf);
  const attempt = num(i.attempt, earlier.length + 1);
  const task: TaskSpec = {
    id: str(i.task, "task"),
    prompt: { path: "builtin:fixture", source: "" },
    needs: [],
    gates: [],
    maxAttempts: num(i.max_attempts, 3),
    priority: 0,
    protect: list(i.protect).map((p) => str(p, "")),
    agent: { kind: "command", timeoutMs: 0, inactivityTimeoutMs: 0, env: {}, options: {} },
  };
  const files = list(i.files).map(fileOf);
  const now = 1_000_000_000_000;
  const built = buildRuleContext({
    hook,
    task,
    attempt,
    decision: str(i.decision, hook === "before_task" ? "none" : "accept"),
    reasons: [],
    agent: hook === "before_task" ? undefined : agentOf(i.agent),
    files,
    git: gitOf(i.git),
    protectedTouched: [],
    gates: list(i.gates).map(gateOf),
    testPatch: str(i.test_patch, ""),
    earlier,
    runCostUsd: num(i.run_cost_usd, 0),
    times: { attemptStart: now - num(i.attempt_ms, 0), taskStart: now - num(i.task_ms, 0), runStart: now - num(i.run_ms, 0), now },
    baseline: list(i.baseline).map(gateOf),
  });
  // protected paths follow from `protect:` globs, as in a run
  const withProtected = { ...built, protected: built.changes.files.filter((f) => f.protected).map((f) => f.path) };
  return { hook, context: merge(withProtected, c.context) as RuleContext };
}

export function runCase(rules: readonly RuleSpec[], c: FixtureCase): CaseResult {
  const { hook, context } = caseContext(c);
  const hooks = hook === "before_task" ? (["before_task"] as const) : hooksAfter(context.decision === "accept" ? "accept" : "retry");
  const fired = evaluateRules(rules, hooks, context);
  const actual: Expectation = strictest(fired)?.action ?? (fired.length > 0 ? "warn" : "accept");
  const firedIds = [...new Set(fired.map((f) => f.rule.id))].sort();
  const rulesOk = c.rules === undefined || JSON.stringify([...c.rules].sort()) === JSON.stringify(firedIds);
  return { case: c, pass: actual === c.expect && rulesOk, actual, fired };
}

/** The readable diff of one failed case: expected lines with `-`, what happened with `+`. */
export function describeMismatch(r: CaseResult): string[] {
  const fired = [...new Set(r.fired.map((f) => f.rule.id))].sort();
  const lines: string[] = [];
  if (r.actual !== r.case.expect) lines.push(`- decision: ${r.case.expect}`, `+ decision: ${r.actual}`);
  if (r.case.rules !== undefined && JSON.stringify([...r.case.rules].sort()) !== JSON.stringify(fired)) {
    lines.push(`- rules: ${[...r.case.rules].sort().join(", ") || "(none)"}`, `+ rules: ${fired.join(", ") || "(none)"}`);
  } else if (fired.length > 0) lines.push(`  rules: ${fired.join(", ")}`);
  for (const f of r.fired) lines.push(`  ${f.rule.id} (${f.action}): ${f.message}`);
  return lines;
}
