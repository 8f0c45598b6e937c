import type { RunEvent } from "../core/events.js";
import type { Reporter, Sink } from "./reporter.js";

/** `--json`: one event per line, exactly as stored in the ledger (each has `type`, `time`, `run`). */
export class NdjsonReporter implements Reporter {
  constructor(private readonly out: Sink) {}

  onEvent(event: RunEvent): void {
    this.out.write(`${JSON.stringify(event)}\n`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
