import type { Diagnostic } from "./diagnostic.js";

/**
 * Every expected failure a user can meet, as one discriminated union. Exceptions are for bugs only; the CLI maps a
 * Failure to an exit code in one place (src/cli/exit-codes.ts).
 */
export type Failure =
  | { readonly reason: "config"; readonly diagnostics: readonly Diagnostic[] }
  | { readonly reason: "usage"; readonly message: string }
  | { readonly reason: "unknown-run"; readonly run: string }
  | { readonly reason: "run-busy"; readonly run: string; readonly pid: number }
  | { readonly reason: "not-resumable"; readonly run: string; readonly status: string }
  | { readonly reason: "state"; readonly message: string }
  /** The run is being driven by a live orc process: `orc rollback` will not pull its workspace from under it. */
  | { readonly reason: "run-active"; readonly run: string; readonly pid: number }
  /** The workspace could not be put back (git failed); nothing was marked rolled back. */
  | { readonly reason: "restore-failed"; readonly message: string }
  /** The state database was deleted or replaced under a run; what orc held was written back (the message says where). */
  | { readonly reason: "state-lost"; readonly message: string; readonly saved: boolean };

export function usage(message: string): Failure {
  return { reason: "usage", message };
}
