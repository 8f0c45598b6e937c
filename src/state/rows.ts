/** The state database's rows as SQLite returns them, and their mapping to the port's rows (src/state/port.ts). */
import type { AgentOutcome, BreakpointContext, BreakpointResolution, Decision, FileChange, GateOutcome, Lease, RunStatus, TaskStatus } from "../core/events.js";
import type { AttemptRow, BreakpointRow, RunRow } from "./port.js";

export interface BreakpointDbRow {
  readonly id: string;
  readonly run_id: string;
  readonly task_id: string;
  readonly attempt: number;
  readonly rule: string;
  readonly status: "open" | "resolved";
  /** Payloads of breakpoint.opened and breakpoint.resolved. */
  readonly opened: string;
  readonly resolved: string | null;
}

export interface RunDbRow {
  readonly id: string;
  readonly status: RunStatus;
  readonly pipeline: string;
  readonly pipeline_file: string;
  readonly workspace: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly finished_at: string | null;
  readonly reason: string | null;
  readonly pid: number | null;
  readonly lease: string | null;
  readonly heartbeat_at: string | null;
}

export interface TaskDbRow {
  readonly id: string;
  readonly status: TaskStatus;
  readonly max_attempts: number;
  readonly reason: string | null;
}

export interface AttemptDbRow {
  readonly task_id: string;
  readonly attempt: number;
  readonly status: AttemptRow["status"];
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly decision: Decision | null;
  readonly reasons: string | null;
  readonly rolled_back_seq: number | null;
  /** Payloads of attempt.started, agent.finished and changes.detected. */
  readonly started: string;
  readonly agent: string | null;
  readonly changes: string | null;
}

export interface GateDbRow {
  readonly task_id: string;
  readonly attempt: number;
  /** Payload of gate.finished. */
  readonly payload: string;
}

export interface EventDbRow {
  readonly seq: number;
  readonly payload: string;
}

export function toRunRow(r: RunDbRow): RunRow {
  return {
    id: r.id,
    status: r.status,
    pipeline: r.pipeline,
    pipelineFile: r.pipeline_file,
    workspace: r.workspace,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.finished_at === null ? {} : { finishedAt: r.finished_at }),
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.pid === null ? {} : { pid: r.pid }),
    ...(r.lease === null ? {} : { lease: JSON.parse(r.lease) as Lease }),
    ...(r.heartbeat_at === null ? {} : { heartbeatAt: r.heartbeat_at }),
  };
}

export function toAttemptRow(a: AttemptDbRow, gates: readonly GateOutcome[]): AttemptRow {
  const started = JSON.parse(a.started) as { prompt: string; checkpoint?: string };
  let changes: AttemptRow["changes"];
  if (a.changes !== null) {
    const c = JSON.parse(a.changes) as { files: readonly FileChange[]; linesChanged: number; checkpoint?: string };
    changes =
      c.checkpoint === undefined
        ? { files: c.files, linesChanged: c.linesChanged }
        : { files: c.files, linesChanged: c.linesChanged, checkpoint: c.checkpoint };
  }
  return {
    attempt: a.attempt,
    status: a.status,
    startedAt: a.started_at,
    ...(a.finished_at === null ? {} : { finishedAt: a.finished_at }),
    prompt: started.prompt,
    ...(started.checkpoint === undefined ? {} : { checkpoint: started.checkpoint }),
    ...(a.rolled_back_seq === null ? {} : { rolledBack: true }),
    ...(a.agent === null ? {} : { agent: (JSON.parse(a.agent) as { result: AgentOutcome }).result }),
    ...(changes === undefined ? {} : { changes }),
    gates,
    ...(a.decision === null ? {} : { decision: a.decision }),
    reasons: a.reasons === null ? [] : (JSON.parse(a.reasons) as string[]),
  };
}

export function toBreakpointRow(b: BreakpointDbRow): BreakpointRow {
  const opened = JSON.parse(b.opened) as { time: string; message: string; context: BreakpointContext };
  const resolved = b.resolved === null ? undefined : (JSON.parse(b.resolved) as { time: string; resolution: BreakpointResolution; note: string });
  return {
    id: b.id,
    run: b.run_id,
    task: b.task_id,
    attempt: b.attempt,
    rule: b.rule,
    status: b.status,
    message: opened.message,
    openedAt: opened.time,
    context: opened.context,
    ...(resolved === undefined ? {} : { resolution: resolved.resolution, note: resolved.note, resolvedAt: resolved.time }),
  };
}

export function attemptKey(task: string, attempt: number): string {
  return `${String(attempt)}\u0000${task}`;
}
