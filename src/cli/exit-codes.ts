import type { Failure } from "../core/failure.js";

/** The documented exit codes (README "Exit codes"); this file is the only mapping from outcomes to them. */
export const EXIT = {
  ok: 0,
  /** A task failed, or the run was cancelled by a rule; `doctor`/`rules test` found problems. */
  failed: 1,
  /** Usage or configuration error: nothing was run, nothing was written. */
  usage: 2,
  /** Paused at a breakpoint, waiting for a human. */
  paused: 3,
  /**
   * Interrupted (SIGINT, SIGTERM, or the state database deleted under the run and written back); state is consistent
   * and `orc resume` continues.
   */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeFor(failure: Failure): ExitCode {
  switch (failure.reason) {
    case "config":
    case "usage":
    case "unknown-run":
    case "run-busy":
    case "not-resumable":
    case "state": // the state store cannot be opened (a newer orc wrote it, or it is not a database): nothing ran
      return EXIT.usage;
    case "run-active":
    case "restore-failed":
      return EXIT.failed;
    case "state-lost": // the run stopped; what it recorded was written back, and `orc resume` continues
      return EXIT.interrupted;
  }
}
