import type { BreakpointRow } from "../state/port.js";
import { withReadonlyStore, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail, type Io } from "./io.js";

/** One breakpoint as a person reads it: why, the diff stats, the gate evidence, the verdict, and how to resolve it. */
export function renderBreakpoint(b: BreakpointRow): string {
  const c = b.context;
  const lines = [
    `${b.id}  ${b.status}  run ${b.run}  task ${b.task}  attempt ${b.attempt}  rule ${b.rule} (${c.source}, ${c.hook})`,
    `  why      ${b.message}`,
  ];
  for (const reason of c.reasons) if (!reason.includes(b.message)) lines.push(`           ${reason}`);
  lines.push(`  changes  ${c.files} file${c.files === 1 ? "" : "s"}, ${c.linesChanged} line${c.linesChanged === 1 ? "" : "s"} changed`);
  for (const f of c.changedFiles.slice(0, 10)) lines.push(`           ${f}`);
  if (c.changedFiles.length > 10) lines.push(`           … ${c.changedFiles.length - 10} more`);
  for (const g of c.gates) lines.push(`  gate     ${g.gate} ${g.passed ? "passed" : "failed"}: ${g.summary}`);
  if (c.verdict !== null && c.verdict !== undefined) lines.push(`  verdict  ${JSON.stringify(c.verdict)}`);
  if (b.status === "open") lines.push(`  resolve  orc resolve ${b.id} --approve | --reject | --retry [--note TEXT]`);
  else lines.push(`  resolved ${b.resolution ?? "?"} at ${b.resolvedAt ?? "?"}${b.note ? `, note: ${b.note}` : ""}`);
  return lines.join("\n");
}

/** `orc breakpoints [RUN]`: the open breakpoints of RUN, or of every run. */
export function breakpointsCommand(runId: string | undefined, options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  return withReadonlyStore(io, options, (store) => {
    let open: readonly BreakpointRow[];
    if (runId === undefined) open = store?.openBreakpoints() ?? [];
    else {
      const snapshot = store?.snapshot(runId);
      if (snapshot === undefined) {
        return fail(io, { reason: "unknown-run", run: runId }, options);
      }
      open = snapshot.breakpoints.filter((b) => b.status === "open");
    }
    if (options.json) io.stdout.write(`${JSON.stringify(open)}\n`);
    else if (open.length === 0) io.stdout.write(runId === undefined ? "no open breakpoints\n" : `run ${runId} has no open breakpoints\n`);
    else io.stdout.write(`${open.map(renderBreakpoint).join("\n\n")}\n`);
    return EXIT.ok;
  });
}
