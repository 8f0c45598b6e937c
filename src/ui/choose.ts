import type { ReportedTask } from "./describe.js";
import { NdjsonReporter } from "./ndjson.js";
import { PlainReporter } from "./plain.js";
import type { Reporter } from "./reporter.js";

/**
 * NDJSON with --json; listr2 on an interactive terminal; plain lines when stdout is not a TTY or CI is set (the
 * usual CI convention), so logs stay greppable.
 */
export async function chooseReporter(options: {
  readonly json: boolean;
  readonly tasks: readonly ReportedTask[];
  readonly stdout: NodeJS.WriteStream;
  readonly env: Record<string, string | undefined>;
}): Promise<Reporter> {
  if (options.json) return new NdjsonReporter(options.stdout);
  const ci = options.env.CI !== undefined && options.env.CI !== "" && options.env.CI !== "false";
  if (!options.stdout.isTTY || ci) return new PlainReporter(options.stdout, options.tasks);
  const { ListrReporter } = await import("./listr.js");
  return new ListrReporter(options.stdout, options.tasks);
}
