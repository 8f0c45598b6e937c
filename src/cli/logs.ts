import { setTimeout as sleep } from "node:timers/promises";
import type { RunEvent } from "../core/events.js";
import type { StateStore } from "../state/port.js";
import { describeEvent } from "../ui/describe.js";
import { openStore, settingsFor, type GlobalOptions } from "./context.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { reportFailure, type Io } from "./io.js";

const FOLLOW_POLL_MS = 200;
const PAGE = 1_000;

function formatEvent(event: RunEvent, maxAttempts: Map<string, number>): string | undefined {
  if (event.type === "run.created") for (const t of event.tasks) maxAttempts.set(t.id, t.maxAttempts);
  const line = describeEvent(event, maxAttempts);
  return line === undefined ? undefined : `${event.time}  ${line}`;
}

/** The run is done producing events once it is no longer running (paused runs wait for `resume`). */
function settled(store: StateStore, runId: string): boolean {
  return store.getRun(runId)?.status !== "running";
}

export async function logsCommand(runId: string, options: GlobalOptions & { readonly json: boolean; readonly follow: boolean }, io: Io): Promise<number> {
  const settings = settingsFor(io, options);
  if (!settings.ok) {
    reportFailure(io, settings.failure, options);
    return exitCodeFor(settings.failure);
  }
  const opened = await openStore(settings.value, { readonly: true });
  if (!opened.ok) {
    reportFailure(io, opened.failure, options);
    return exitCodeFor(opened.failure);
  }
  const store = opened.value;
  if (store?.getRun(runId) === undefined) {
    store?.close();
    const failure = { reason: "unknown-run", run: runId } as const;
    reportFailure(io, failure, options);
    return exitCodeFor(failure);
  }
  const maxAttempts = new Map<string, number>();
  let after = 0;
  try {
    for (;;) {
      // Read in bounded pages so memory stays flat however long the ledger is.
      const page = store.events(runId, { afterSeq: after, limit: PAGE });
      for (const { seq, event } of page) {
        after = seq;
        const line = options.json ? JSON.stringify(event) : formatEvent(event, maxAttempts);
        if (line !== undefined) io.stdout.write(`${line}\n`);
      }
      if (page.length === PAGE) continue;
      if (!options.follow || settled(store, runId)) {
        if (options.follow && store.events(runId, { afterSeq: after, limit: 1 }).length > 0) continue;
        return EXIT.ok;
      }
      await sleep(FOLLOW_POLL_MS);
    }
  } finally {
    store.close();
  }
}
