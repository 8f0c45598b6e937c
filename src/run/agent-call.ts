/**
 * Runs the agent for one attempt, and everything around that call that depends on the task's history in the ledger:
 * - the session to continue (a retry resumes the last one unless `session: fresh`),
 * - the session announced mid-run, recorded at once (`agent.session`) so a SIGINT or a crash does not lose it,
 * - rate, usage and overload limits: record `agent.waiting {until}`, sleep (abortable), continue the same session;
 *   a wait still pending when `orc resume` starts is honoured, not skipped. A limit beyond `limits.max_wait` is
 *   returned to the caller, which stops the task for a human.
 */
import type { AgentPlugin, AgentRunInput } from "../agents/port.js";
import type { AgentLimit, AgentOutcome, EventInput } from "../core/events.js";
import { DEFAULT_AGENT_LIMITS, type TaskSpec } from "../core/pipeline.js";
import type { StateStore } from "../state/port.js";
import type { Place, RunDeps } from "./deps.js";

export interface AgentCall {
  readonly runId: string;
  readonly task: TaskSpec;
  readonly attempt: number;
  readonly prompt: string;
  readonly promptFile: string;
  readonly workspace: string;
}

/** What the ledger says about a task's agent sessions and a limit it may still be waiting out. */
export interface TaskAgentHistory {
  readonly sessionId?: string;
  readonly wait?: { readonly until: string; readonly limit: AgentLimit; readonly sessionId?: string };
}

export function taskAgentHistory(store: StateStore, runId: string, taskId: string): TaskAgentHistory {
  let sessionId: string | undefined;
  let wait: TaskAgentHistory["wait"];
  // The session as the current attempt found it: an attempt the transport lost had its files put back, so the next
  // one continues the session from before it, not one that remembers writing files that are gone.
  let atStart: string | undefined;
  for (const { event: e } of store.events(runId)) {
    if (!("task" in e) || e.task !== taskId) continue;
    if (e.type === "attempt.started") atStart = sessionId;
    else if (e.type === "attempt.interrupted" && e.lost !== undefined) sessionId = atStart;
    else if (e.type === "agent.session") sessionId = e.sessionId;
    else if (e.type === "agent.finished") {
      sessionId = e.result.sessionId ?? sessionId;
      wait = undefined;
    } else if (e.type === "agent.waiting") {
      sessionId = e.sessionId ?? sessionId;
      wait = { until: e.until, limit: e.limit, ...(e.sessionId === undefined ? {} : { sessionId: e.sessionId }) };
    }
  }
  return { ...(sessionId === undefined ? {} : { sessionId }), ...(wait === undefined ? {} : { wait }) };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** When to try again after a limit: its reset time, else `waitMs` doubled for each limit met in a row. */
export function waitUntil(limit: AgentLimit, streak: number, waitMs: number, now = Date.now()): number {
  const reset = limit.resetAt === undefined ? Number.NaN : Date.parse(limit.resetAt);
  // A reset time in the past (clock skew) still gets a short pause rather than an immediate hammering retry.
  if (Number.isFinite(reset)) return Math.max(reset, now + 1000);
  return now + waitMs * 2 ** Math.min(streak, 10);
}

export async function callAgent(deps: RunDeps, plugin: AgentPlugin, place: Place, call: AgentCall, record: (event: EventInput) => void): Promise<AgentOutcome> {
  const { runId, task, attempt } = call;
  const limits = task.agent.limits ?? DEFAULT_AGENT_LIMITS;
  const history: TaskAgentHistory = plugin.sessions === true ? taskAgentHistory(deps.store, runId, task.id) : {};
  let sessionId = task.agent.session === "fresh" && history.wait === undefined ? undefined : history.wait?.sessionId ?? history.sessionId;

  // A wait persisted by an earlier process (`orc resume` during a limit) is kept, and shown again.
  if (history.wait !== undefined && Date.parse(history.wait.until) > Date.now()) {
    const { until, limit } = history.wait;
    record({ type: "agent.waiting", run: runId, task: task.id, attempt, until, limit, ...(sessionId === undefined ? {} : { sessionId }) });
    await sleep(Date.parse(until) - Date.now(), deps.signal);
  }

  // A function, not a property read, so TypeScript does not narrow it to `false` after the first check.
  const aborted = (): boolean => deps.signal.aborted;
  let announced: string | undefined;
  for (let streak = 0; ; streak++) {
    const input: AgentRunInput = {
      spec: task.agent,
      prompt: call.prompt,
      promptFile: call.promptFile,
      scratchDir: deps.scratchDir,
      workspace: call.workspace,
      runId,
      taskId: task.id,
      attempt,
      env: place.env,
      transport: place.transport,
      signal: deps.signal,
      ...(sessionId === undefined ? {} : { previousSessionId: sessionId }),
      onSession: (id) => {
        if (id === announced) return;
        announced = id;
        record({ type: "agent.session", run: runId, task: task.id, attempt, sessionId: id });
      },
      onSpawn: (process) => {
        record({ type: "agent.spawned", run: runId, task: task.id, attempt, process });
      },
    };
    const outcome = await plugin.run(input);
    if (aborted() || outcome.limit === undefined) return outcome;
    const until = waitUntil(outcome.limit, streak, limits.waitMs);
    if (until - Date.now() > limits.maxWaitMs) return outcome;
    sessionId = outcome.sessionId ?? sessionId;
    record({
      type: "agent.waiting",
      run: runId,
      task: task.id,
      attempt,
      until: new Date(until).toISOString(),
      limit: outcome.limit,
      ...(sessionId === undefined ? {} : { sessionId }),
    });
    await sleep(until - Date.now(), deps.signal);
    if (aborted()) return outcome;
  }
}
