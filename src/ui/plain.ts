import type { RunEvent } from "../core/events.js";
import { describeEvent, type ReportedTask } from "./describe.js";
import { BatchedSink } from "./batched-sink.js";
import type { Reporter, Sink } from "./reporter.js";

/** Plain lines, for CI logs and pipes: no colour, no cursor movement, one line per event worth reading. */
export class PlainReporter implements Reporter {
  private readonly maxAttempts: ReadonlyMap<string, number>;
  private readonly out: BatchedSink;
  constructor(out: Sink, tasks: readonly ReportedTask[]) {
    this.out = new BatchedSink(out);
    this.maxAttempts = new Map(tasks.map((t) => [t.id, t.maxAttempts]));
  }

  onEvent(event: RunEvent): void {
    const line = describeEvent(event, this.maxAttempts);
    if (line !== undefined) this.out.write(`${line}\n`);
  }

  close(): Promise<void> {
    this.out.flush();
    return Promise.resolve();
  }
}
