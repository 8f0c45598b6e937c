import { setTimeout as sleep } from "node:timers/promises";
import type { RunEvent } from "../core/events.js";
import type { StateStore } from "../state/port.js";
import { describeEvent } from "../ui/describe.js";
import { withReadonlyStore, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail, type Io } from "./io.js";

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

export function logsCommand(runId: string, options: GlobalOptions & { readonly json: boolean; readonly follow: boolean }, io: Io): Promise<number> {
  return withReadonlyStore(io, options, async (store) => {
    if (store?.getRun(runId) === undefined) return fail(io, { reason: "unknown-run", run: runId }, options);
    const maxAttempts = new Map<string, number>();
    let after = 0;
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
  });
}
