/**
 * The rules' part of an attempt, called by run/attempt.ts after orc's own decision and by the orchestrator before a
 * task's attempt (the before_task hook): build the context from the attempt and the DB, evaluate, record every rule
 * that fired, and fold them into the decision.
 */
import type { AgentOutcome, Decision, EventInput, FileChange, GateOutcome } from "../core/events.js";
import { loadExpressionLanguage } from "../core/expression.js";
import type { GitChanges } from "../core/git-changes.js";
import type { Pipeline, TaskSpec } from "../core/pipeline.js";
import type { AttemptRow, StateStore } from "../state/port.js";
import { effectiveRules } from "./builtin.js";
import { buildRuleContext, isTestPath, type ContextInput } from "./context.js";
import { applyRules, evaluateRules, hooksAfter, type FiredRule, type RuledDecision } from "./engine.js";

interface History {
  readonly earlier: readonly AttemptRow[];
  readonly runCostUsd: number;
  readonly runStart: number;
  readonly taskStart: number | undefined;
}

function history(store: StateStore, runId: string, taskId: string): History {
  const snapshot = store.snapshot(runId);
  const tasks = snapshot?.tasks ?? [];
  const cost = (a: AttemptRow): number => {
    const usd = (a.agent as (AgentOutcome & { costUsd?: number }) | undefined)?.costUsd;
    return typeof usd === "number" ? usd : 0;
  };
  const earlier = tasks.find((t) => t.id === taskId)?.attempts ?? [];
  const first = earlier[0]?.startedAt;
  return {
    earlier,
    runCostUsd: tasks.reduce((n, t) => n + t.attempts.reduce((m, a) => m + cost(a), 0), 0),
    runStart: snapshot === undefined ? Date.now() : Date.parse(snapshot.run.createdAt),
    taskStart: first === undefined ? undefined : Date.parse(first),
  };
}

type RecordEvent = (event: EventInput) => void;

function recordFired(record: RecordEvent, run: string, task: string, attempt: number, fired: readonly FiredRule[]): void {
  for (const f of fired) {
    record({ type: "rule.fired", run, task, attempt, rule: f.rule.id, source: f.rule.source, action: f.action, message: f.message });
  }
}

export interface AfterAttemptInput {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly task: TaskSpec;
  readonly attempt: number;
  readonly attemptsLeft: boolean;
  readonly agent: AgentOutcome;
  readonly files: readonly FileChange[];
  /** The change set's `git`: what the attempt did to the workspace's `.git` (absent when not observed). */
  readonly git?: GitChanges | undefined;
  readonly gates: readonly GateOutcome[];
  readonly protectedTouched: readonly string[];
  readonly base: { readonly decision: Decision; readonly reasons: readonly string[] };
  readonly attemptStart: number;
  /** The task's gates before its first attempt (src/run/baseline.ts). */
  readonly baseline?: readonly GateOutcome[];
  /** Gives the diff text of the changed test files (test-integrity rules read their lines). */
  readonly testPatch: (paths: readonly string[]) => Promise<string>;
}

/** Evaluates the after_attempt hook, then before_accept or on_failure, and returns the decision the rules leave. */
export async function decideWithRules(store: StateStore, record: RecordEvent, input: AfterAttemptInput): Promise<RuledDecision & { fired: readonly FiredRule[] }> {
  const rules = effectiveRules(input.pipeline);
  // The built-in rules read only judge verdicts and agent limits: with no other rule, no judge gate and no limit there
  // is nothing to evaluate, and an attempt costs no DB snapshot and no git diff.
  const onlyBuiltin = rules.every((r) => r.source === "builtin");
  const builtinIdle = !input.gates.some((g) => g.kind === "judge") && input.agent.limit === undefined;
  if (rules.length === 0 || (onlyBuiltin && builtinIdle)) return { ...input.base, fired: [] };
  const h = history(store, input.runId, input.task.id);
  const testFiles = input.files.filter((f) => isTestPath(f.path) && !f.binary).map((f) => f.path);
  const context: ContextInput = {
    hook: "after_attempt",
    task: input.task,
    attempt: input.attempt,
    decision: input.base.decision,
    reasons: input.base.reasons,
    agent: input.agent,
    files: input.files,
    git: input.git,
    protectedTouched: input.protectedTouched,
    gates: input.gates,
    testPatch: testFiles.length === 0 ? "" : await input.testPatch(testFiles),
    earlier: h.earlier,
    runCostUsd: h.runCostUsd,
    times: { attemptStart: input.attemptStart, taskStart: h.taskStart ?? input.attemptStart, runStart: h.runStart, now: Date.now() },
    ...(input.baseline === undefined ? {} : { baseline: input.baseline }),
  };
  await loadExpressionLanguage();
  const fired = evaluateRules(rules, hooksAfter(input.base.decision), buildRuleContext(context));
  recordFired(record, input.runId, input.task.id, input.attempt, fired);
  return { ...applyRules(input.base, fired, input.attemptsLeft), fired };
}

/** The before_task hook, before attempt `attempt` starts: no agent result, no changes, no gates yet. */
export async function checkBeforeTask(
  store: StateStore,
  record: RecordEvent,
  input: { readonly runId: string; readonly pipeline: Pipeline; readonly task: TaskSpec; readonly attempt: number },
): Promise<RuledDecision | undefined> {
  const rules = effectiveRules(input.pipeline).filter((r) => r.hook === "before_task");
  if (rules.length === 0) return undefined;
  await loadExpressionLanguage();
  const h = history(store, input.runId, input.task.id);
  const now = Date.now();
  const context = buildRuleContext({
    hook: "before_task",
    task: input.task,
    attempt: input.attempt,
    decision: "none",
    reasons: [],
    agent: undefined,
    files: [],
    protectedTouched: [],
    gates: [],
    testPatch: "",
    earlier: h.earlier,
    runCostUsd: h.runCostUsd,
    times: { attemptStart: now, taskStart: h.taskStart ?? now, runStart: h.runStart, now },
  });
  const fired = evaluateRules(rules, ["before_task"], context);
  if (fired.length === 0) return undefined;
  recordFired(record, input.runId, input.task.id, input.attempt, fired);
  // Before a task there is nothing to reject: a reject rule here fails the task, like `fail`.
  const ruled = applyRules({ decision: "accept", reasons: [] }, fired.map((f) => (f.action === "reject" ? { ...f, action: "fail" as const } : f)), true);
  return ruled.decision === "accept" ? undefined : ruled;
}
