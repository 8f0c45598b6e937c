import type { Settings } from "../../core/pipeline.js";

/** What `orc doctor` knows when it runs the checks. */
export interface DoctorContext {
  readonly settings: Settings;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface CheckResult {
  /** `warn` is shown but does not fail `orc doctor`; `fail` makes it exit 1. */
  readonly status: "ok" | "warn" | "fail";
  readonly detail: string;
  /** Figures for `--json` (versions, timings). */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** One doctor check; add a file with one of these and list it in checks.ts. */
export interface DoctorCheck {
  readonly name: string;
  run(ctx: DoctorContext): Promise<CheckResult>;
}
