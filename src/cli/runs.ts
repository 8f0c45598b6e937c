import { withReadonlyStore, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import type { Io } from "./io.js";

export function runsCommand(options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  return withReadonlyStore(io, options, (store) => {
    const runs = store?.listRuns() ?? [];
    if (options.json) io.stdout.write(`${JSON.stringify(runs)}\n`);
    else if (runs.length === 0) io.stdout.write("no runs yet\n");
    else for (const r of runs) io.stdout.write(`${r.id}  ${r.status.padEnd(9)}  ${r.createdAt}  ${r.pipeline}\n`);
    return EXIT.ok;
  });
}
