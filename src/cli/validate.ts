import { diagnosticToJson } from "../core/diagnostic.js";
import { validateFiles } from "../config/index.js";
import { settingsFor, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail, reportFailure, type Io } from "./io.js";

export async function validateCommand(files: readonly string[], options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  const settings = await settingsFor(io, options);
  if (!settings.ok) {
    return fail(io, settings.failure, options);
  }
  const { diagnostics, sources } = await validateFiles([...files], settings.value);
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (options.json) {
    io.stdout.write(`${JSON.stringify(diagnostics.map(diagnosticToJson))}\n`);
  } else {
    if (diagnostics.length > 0) reportFailure(io, { reason: "config", diagnostics }, { json: false, sources });
    if (errors.length === 0) io.stdout.write(`${files.length} file${files.length === 1 ? "" : "s"} valid\n`);
  }
  return errors.length > 0 ? EXIT.usage : EXIT.ok;
}
