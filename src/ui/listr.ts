import { Listr, type ListrTaskWrapper, type DefaultRenderer, type SimpleRenderer } from "listr2";
import type { RunEvent } from "../core/events.js";
import { describeEvent, type ReportedTask } from "./describe.js";
import { describeWait } from "./describe-agent.js";
import type { Reporter, Sink } from "./reporter.js";

type Wrapper = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;

interface Row {
  wrapper?: Wrapper;
  finish?: ((outcome: "accepted" | "failed" | "skipped" | "stopped", reason: string) => void) | undefined;
  pending?: { outcome: "accepted" | "failed" | "skipped" | "stopped"; reason: string };
  /** The latest title and output set before listr2 started the row (events can beat listr2's first tick). */
  title?: string;
  output?: string;
  /** Ticks the countdown of a rate or usage limit wait (agent.waiting) once a second. */
  countdown?: NodeJS.Timeout | undefined;
}

/**
 * listr2 on a terminal: one row per task, its title showing the attempt and its output the latest step. The rows are
 * driven purely by RunEvents; listr2 never runs any work itself.
 */
export class ListrReporter implements Reporter {
  private readonly rows = new Map<string, Row>();
  private readonly maxAttempts: ReadonlyMap<string, number>;
  private readonly list: Listr<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;
  private done: Promise<void> | undefined;
  private footer: string | undefined;

  constructor(
    private readonly out: Sink,
    tasks: readonly ReportedTask[],
  ) {
    this.maxAttempts = new Map(tasks.map((t) => [t.id, t.maxAttempts]));
    for (const t of tasks) this.rows.set(t.id, {});
    this.list = new Listr(
      tasks.map((t) => ({
        title: t.id,
        task: (_ctx: unknown, wrapper: Wrapper) =>
          new Promise<void>((resolve, reject) => {
            const row = this.rows.get(t.id) ?? {};
            row.wrapper = wrapper;
            if (row.title !== undefined) wrapper.title = row.title;
            if (row.output !== undefined) wrapper.output = row.output;
            row.finish = (outcome, reason) => {
              wrapper.title = `${t.id}: ${outcome === "stopped" ? "interrupted" : outcome}`;
              if (outcome === "accepted") resolve();
              else if (outcome === "skipped") {
                wrapper.skip(`${t.id}: skipped (${reason})`);
                resolve();
              } else reject(new Error(reason));
            };
            if (row.pending !== undefined) row.finish(row.pending.outcome, row.pending.reason);
          }),
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false, showErrorMessage: true } },
    );
  }

  /** The run id line comes first, above the live rows. */
  private start(header: string | undefined): void {
    if (this.done !== undefined) return;
    if (header !== undefined) this.out.write(`${header}\n`);
    this.done = this.list.run().then(
      () => undefined,
      () => undefined,
    );
  }

  onEvent(event: RunEvent): void {
    if (event.type === "run.created" || event.type === "run.started") {
      this.start(describeEvent(event, this.maxAttempts));
      return;
    }
    if (event.type === "run.interrupted" || event.type === "run.finished" || event.type === "run.paused") {
      for (const row of this.rows.values()) this.settle(row, "stopped", event.reason);
      this.footer = describeEvent(event, this.maxAttempts);
      return;
    }
    if (!("task" in event)) return;
    const row = this.rows.get(event.task);
    if (row === undefined) return;
    clearInterval(row.countdown);
    if (event.type === "agent.waiting") {
      // A live countdown on the terminal only: the ledger holds the one agent.waiting event, not every tick.
      const { task, until, limit } = event;
      const tick = (): void => {
        row.output = describeWait(task, until, limit).replace(`[${task}] `, "");
        if (row.wrapper !== undefined) row.wrapper.output = row.output;
      };
      tick();
      row.countdown = setInterval(tick, 1000);
      row.countdown.unref();
      return;
    }
    if (event.type === "task.finished") {
      this.settle(row, event.status, event.reason);
      return;
    }
    if (event.type === "breakpoint.opened") {
      this.settle(row, "stopped", describeEvent(event, this.maxAttempts) ?? "paused at a breakpoint");
      return;
    }
    const line = describeEvent(event, this.maxAttempts);
    if (line === undefined) return;
    if (event.type === "attempt.started") {
      row.title = `${event.task} (attempt ${event.attempt}/${this.maxAttempts.get(event.task) ?? "?"})`;
      if (row.wrapper !== undefined) row.wrapper.title = row.title;
    }
    row.output = line.replace(`[${event.task}] `, "");
    if (row.wrapper !== undefined) row.wrapper.output = row.output;
  }

  private settle(row: Row, outcome: "accepted" | "failed" | "skipped" | "stopped", reason: string): void {
    if (row.finish !== undefined) {
      const finish = row.finish;
      row.finish = undefined;
      finish(outcome, reason);
    } else if (row.pending === undefined) row.pending = { outcome, reason };
  }

  async close(): Promise<void> {
    for (const row of this.rows.values()) clearInterval(row.countdown);
    for (const row of this.rows.values()) this.settle(row, "stopped", "run ended");
    if (this.done !== undefined) await this.done;
    if (this.footer !== undefined) this.out.write(`${this.footer}\n`);
  }
}
