import { settingsFor, type GlobalOptions } from "./context.js";
import type { CheckResult } from "./doctor/check.js";
import { CHECKS } from "./doctor/checks.js";
import { EXIT } from "./exit-codes.js";
import { fail, type Io } from "./io.js";

/** `orc doctor`: is this machine ready to run orc? Exit 0 when no check fails, 1 otherwise (warnings do not fail). */
export async function doctorCommand(options: GlobalOptions & { readonly json: boolean }, io: Io): Promise<number> {
  const settings = await settingsFor(io, options);
  if (!settings.ok) {
    return fail(io, settings.failure, options);
  }
  const ctx = { settings: settings.value, env: io.env, cwd: io.cwd };
  const results: (CheckResult & { readonly name: string })[] = [];
  for (const check of CHECKS) {
    let result: CheckResult;
    try {
      result = await check.run(ctx);
    } catch (error) {
      // A check that throws is a finding about this machine, not a crash of orc.
      result = { status: "fail", detail: error instanceof Error ? error.message : String(error) };
    }
    results.push({ name: check.name, ...result });
    if (!options.json) io.stdout.write(`${result.status.padEnd(4)}  ${check.name.padEnd(8)} ${result.detail}\n`);
  }
  const ok = results.every((r) => r.status !== "fail");
  if (options.json) io.stdout.write(`${JSON.stringify({ ok, checks: results })}\n`);
  return ok ? EXIT.ok : EXIT.failed;
}
