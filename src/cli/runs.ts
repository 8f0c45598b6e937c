import { openStore, settingsFor, type GlobalOptions } from "./context.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { reportFailure, type Io } from "./io.js";

export async function runsCommand(options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
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
  try {
    const runs = store?.listRuns() ?? [];
    if (options.json) io.stdout.write(`${JSON.stringify(runs)}\n`);
    else if (runs.length === 0) io.stdout.write("no runs yet\n");
    else for (const r of runs) io.stdout.write(`${r.id}  ${r.status.padEnd(9)}  ${r.createdAt}  ${r.pipeline}\n`);
    return EXIT.ok;
  } finally {
    store?.close();
  }
}
