import type { RunEvent } from "../core/events.js";

/** Reporters only listen: core code never writes to the console. */
export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Flush and release the terminal; called once when the command ends. */
  close(): Promise<void>;
}

/** Anything with `write`, so reporters can be pointed at a buffer in tests. */
export interface Sink {
  write(text: string): unknown;
}
