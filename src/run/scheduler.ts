import type { TaskStatus } from "../core/events.js";
import type { Plan, PlanTask } from "../plan/plan.js";

export type FinalStatus = "accepted" | "failed" | "skipped";
const FINAL: ReadonlySet<TaskStatus> = new Set(["accepted", "failed", "skipped"]);

/**
 * Which task runs next. Ready tasks (every need accepted) start by priority, then plan order; the dependents of a
 * failed or skipped task are skipped. Incremental: each task keeps a count of its needs not yet accepted, so a run of
 * n tasks costs O(n + edges), not a scan of every task per task started.
 */
export class Scheduler {
  private readonly status = new Map<string, TaskStatus>();
  private readonly unmet = new Map<string, number>();
  private readonly dependents = new Map<string, string[]>();
  private readonly candidates = new Set<string>();
  private readonly order = new Map<string, number>();
  private readonly planned = new Map<string, PlanTask>();
  /** A task failed or was skipped since the last pass for skips (a resumed run may start with some). */
  private blocked = true;

  /**
   * `initial`: what the DB says of each task (a resumed run), with "paused" only for tasks whose breakpoint is still
   * open. Final statuses are kept and paused ones stay paused; anything else (running, a paused task a human
   * resolved) starts again as pending.
   */
  constructor(
    private readonly plan: Plan,
    initial: (id: string) => TaskStatus,
  ) {
    plan.tasks.forEach((t, i) => {
      this.order.set(t.id, i);
      this.planned.set(t.id, t);
      const stored = initial(t.id);
      this.status.set(t.id, FINAL.has(stored) || stored === "paused" ? stored : "pending");
    });
    for (const t of plan.tasks) {
      this.unmet.set(t.id, t.needs.filter((n) => this.status.get(n) !== "accepted").length);
      for (const need of t.needs) {
        const list = this.dependents.get(need);
        if (list === undefined) this.dependents.set(need, [t.id]);
        else list.push(t.id);
      }
      if (this.unmet.get(t.id) === 0) this.candidates.add(t.id);
    }
  }

  statusOf(id: string): TaskStatus {
    return this.status.get(id) ?? "pending";
  }

  /** Tasks with `status`, in plan order. */
  withStatus(status: TaskStatus): string[] {
    return this.plan.tasks.filter((t) => this.status.get(t.id) === status).map((t) => t.id);
  }

  started(id: string): void {
    this.candidates.delete(id);
    this.status.set(id, "running");
  }

  paused(id: string): void {
    this.status.set(id, "paused");
  }

  finished(id: string, final: FinalStatus): void {
    this.status.set(id, final);
    if (final !== "accepted") {
      this.blocked = true;
      return;
    }
    for (const dependent of this.dependents.get(id) ?? []) {
      const left = (this.unmet.get(dependent) ?? 1) - 1;
      this.unmet.set(dependent, left);
      if (left === 0) this.candidates.add(dependent);
    }
  }

  /**
   * Pending tasks that can never run (a need failed or was skipped), each with the reason, in plan order (which lists
   * every task after its needs, so one pass skips whole chains). The caller records each as skipped via `finished`.
   */
  *skips(): Generator<{ readonly id: string; readonly reason: string }> {
    if (!this.blocked) return;
    this.blocked = false;
    for (const t of this.plan.tasks) {
      if (this.status.get(t.id) !== "pending") continue;
      const blocker = t.needs.find((n) => this.status.get(n) === "failed" || this.status.get(n) === "skipped");
      if (blocker !== undefined) yield { id: t.id, reason: `needs ${blocker}, which ${this.status.get(blocker) === "failed" ? "failed" : "was skipped"}` };
    }
  }

  /** The ready task to start next: highest priority, then earliest in the plan; undefined when none is ready. */
  next(): PlanTask | undefined {
    let best: PlanTask | undefined;
    for (const id of this.candidates) {
      const t = this.status.get(id) === "pending" ? this.planned.get(id) : undefined;
      if (t === undefined) continue;
      if (best === undefined || t.priority > best.priority || (t.priority === best.priority && (this.order.get(t.id) ?? 0) < (this.order.get(best.id) ?? 0))) best = t;
    }
    return best;
  }
}
