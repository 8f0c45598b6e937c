import { renderPlan } from "../plan/render.js";
import type { GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import type { Io } from "./io.js";
import { loadForRun } from "./load.js";

/** Prints exactly what `apply` would execute; writes nothing (no state dir, no DB). */
export async function planCommand(file: string, options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  const loaded = await loadForRun(file, options, io, false);
  if (typeof loaded === "number") return loaded;
  io.stdout.write(options.json ? `${JSON.stringify(loaded.plan)}\n` : `${renderPlan(loaded.plan)}\n`);
  return EXIT.ok;
}
