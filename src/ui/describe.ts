import { formatDuration } from "../core/duration.js";
import type { RunEvent } from "../core/events.js";
import { describeGitChanges } from "../core/git-changes.js";
import { agentStats, describeWait } from "./describe-agent.js";

/**
 * One human line per event (or undefined for events a person does not need to see), shared by the plain and the
 * listr2 reporters so both tell the same story.
 */
export function describeEvent(event: RunEvent, maxAttempts: ReadonlyMap<string, number>): string | undefined {
  switch (event.type) {
    case "run.created":
      return `run ${event.run}: pipeline ${event.pipeline}, ${event.tasks.length} task${event.tasks.length === 1 ? "" : "s"}, workspace ${event.workspace}`;
    case "run.started":
      return event.resumed ? `run ${event.run} resumed` : undefined;
    case "task.started":
      return undefined;
    case "attempt.started":
      return `[${event.task}] attempt ${event.attempt}/${maxAttempts.get(event.task) ?? "?"} started`;
    case "agent.finished": {
      const r = event.result;
      const how = r.end === "exited" ? `exited ${r.exitCode ?? "?"}` : r.end === "spawn-error" ? `could not start (${r.error ?? ""})` : r.end;
      return `[${event.task}] agent ${how} after ${formatDuration(r.durationMs)}${agentStats(r)}`;
    }
    case "agent.session":
      return undefined;
    case "prompt.rewritten":
      return event.used ? `[${event.task}] retry prompt rewritten by the LLM` : `[${event.task}] retry prompt sent as written: ${event.reason}`;
    case "agent.waiting":
      return describeWait(event.task, event.until, event.limit, Date.parse(event.time));
    case "changes.detected": {
      const added = event.files.reduce((n, f) => n + f.added, 0);
      const removed = event.files.reduce((n, f) => n + f.removed, 0);
      const files =
        event.files.length === 0
          ? `[${event.task}] no files changed`
          : `[${event.task}] changed ${event.files.length} file${event.files.length === 1 ? "" : "s"} (+${added} -${removed})`;
      // What the agent did to .git is in no checkpoint: this line is where a user sees it.
      const git = event.git === undefined ? "" : describeGitChanges(event.git);
      return git === "" ? files : `${files}; git: ${git}`;
    }
    case "gate.finished":
      return `[${event.task}] gate ${event.result.gate} ${event.result.passed ? "passed" : "failed"}: ${event.result.summary}`;
    case "baseline.finished": {
      const t = event.result.tests;
      const counted = t === undefined ? "no tests counted" : `${t.total} tests (${t.failed} failing)`;
      return `[${event.task}] baseline: gate ${event.result.gate} ${event.result.passed ? "passes" : "fails"} before any change, ${counted}`;
    }
    case "attempt.decided":
      return `[${event.task}] attempt ${event.attempt}: ${event.decision}${event.decision === "accept" ? "" : ` (${event.reasons.join("; ")})`}`;
    case "attempt.interrupted":
      if (event.lost !== undefined) return `[${event.task}] attempt ${event.attempt} lost, runs again (not counted): ${event.lost}`;
      return event.orphanStopped === undefined
        ? `[${event.task}] attempt ${event.attempt} interrupted`
        : `[${event.task}] attempt ${event.attempt} interrupted; stopped its agent (pid ${event.orphanStopped}), still running after orc was killed`;
    case "agent.spawned":
      return undefined;
    case "task.finished":
      return `[${event.task}] ${event.status}: ${event.reason}`;
    case "run.interrupted":
      return `run ${event.run} paused: ${event.reason}`;
    case "run.finished":
      return `run ${event.run} ${event.status}: ${event.reason}`;
    case "rule.fired":
      return `[${event.task}] rule ${event.rule} (${event.source}) → ${event.action}: ${event.message}`;
    case "breakpoint.opened":
      return `[${event.task}] paused at breakpoint ${event.id} (${event.rule}): ${event.message}`;
    case "breakpoint.resolved":
      return `[${event.task}] breakpoint ${event.id} resolved: ${event.resolution}${event.note !== "" ? ` (note: ${event.note})` : ""}`;
    case "breakpoint.notified":
      return event.ok ? undefined : `breakpoint ${event.id}: ${event.channel} notification failed: ${event.detail}`;
    case "run.paused":
      return `run ${event.run} paused at ${event.breakpoints.join(", ")}: ${event.reason}`;
    case "task.isolated":
      return `[${event.task}] works in ${event.dir} (from checkpoint ${event.base.slice(0, 12)})`;
    case "merge.started":
      return undefined;
    case "merge.finished":
      return describeMerge(event);
    case "workspace.restored":
      return `[${event.task}] workspace restored to ${RESTORED[event.why]} (checkpoint ${event.checkpoint.slice(0, 12)})`;
    case "run.rolled_back":
      return `run ${event.run} rolled back to ${event.target} (checkpoint ${event.checkpoint.slice(0, 12)}): ${event.reason}`;
  }
}

const RESTORED = {
  "task-failed": "the task's start: the failed task's work is undone",
  "fresh-retry": "the task's start for a fresh retry",
  resumed: "where the interrupted attempt started, which runs again",
  "transport-lost": "where the attempt the transport lost started, which runs again",
} as const;

/** The tasks a reporter shows, in plan order. */
export interface ReportedTask {
  readonly id: string;
  readonly maxAttempts: number;
}

function describeMerge(event: Extract<RunEvent, { type: "merge.finished" }>): string {
  switch (event.status) {
    case "merged":
      return `[${event.task}] attempt ${event.attempt} merged into the workspace (checkpoint ${event.checkpoint.slice(0, 12)})`;
    case "conflict":
      return `[${event.task}] attempt ${event.attempt} does not merge: ${event.paths.join(", ")} changed since the task started`;
    case "gate-failed":
      return `[${event.task}] attempt ${event.attempt} merged, but ${event.gates.filter((g) => !g.passed).map((g) => `gate ${g.gate}`).join(", ")} failed on the result; merge taken back`;
  }
}
