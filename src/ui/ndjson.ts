import type { RunEvent } from "../core/events.js";
import { BatchedSink } from "./batched-sink.js";
import type { Reporter, Sink } from "./reporter.js";

/** `--json`: one event per line, exactly as stored in the ledger (each has `type`, `time`, `run`). */
export class NdjsonReporter implements Reporter {
  private readonly out: BatchedSink;
  constructor(out: Sink) {
    this.out = new BatchedSink(out);
  }

  onEvent(event: RunEvent): void {
    this.out.write(`${JSON.stringify(event)}\n`);
  }

  close(): Promise<void> {
    this.out.flush();
    return Promise.resolve();
  }
}
