import type { BreakpointRow } from "../state/port.js";
import type { RunDeps } from "./deps.js";

/** How often a waiting run looks for a resolution: another process writes it to the same state.db. */
export const WAIT_POLL_MS = 250;

/**
 * `--wait`: the run stays up at a breakpoint until a human resolves it from another process (`orc resolve`), then
 * continues in place. Resolves to undefined when the run is interrupted first (the breakpoint stays open).
 */
export async function waitForResolution(deps: Pick<RunDeps, "store" | "signal">, id: string): Promise<BreakpointRow | undefined> {
  for (;;) {
    if (deps.signal.aborted) return undefined;
    const bp = deps.store.breakpoint(id);
    if (bp === undefined) return undefined; // unreachable: the row was written before waiting began
    if (bp.status === "resolved") return bp;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, WAIT_POLL_MS);
      function done(): void {
        clearTimeout(timer);
        deps.signal.removeEventListener("abort", done);
        resolve();
      }
      deps.signal.addEventListener("abort", done, { once: true });
    });
  }
}
