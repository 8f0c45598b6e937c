import { readFileSync } from "node:fs";
import { diagnosticToJson } from "../core/diagnostic.js";
import type { Failure } from "../core/failure.js";
import { formatDiagnostic } from "../core/diagnostic-format.js";
import { exitCodeFor } from "./exit-codes.js";

/** Where a command writes; injected so the commands stay testable and core code never touches the console. */
export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
}

export const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env });

function sourceOf(file: string, sources: ReadonlyMap<string, string> | undefined): string | undefined {
  const known = sources?.get(file);
  if (known !== undefined) return known;
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Prints a failure the way the contract says: diagnostics compiler-style on stderr, or as a JSON array with --json. */
export function reportFailure(io: Io, failure: Failure, options: { readonly json: boolean; readonly sources?: ReadonlyMap<string, string> }): void {
  if (failure.reason === "config") {
    if (options.json) {
      io.stdout.write(`${JSON.stringify(failure.diagnostics.map(diagnosticToJson))}\n`);
      return;
    }
    for (const d of failure.diagnostics) io.stderr.write(`${formatDiagnostic(d, sourceOf(d.file, options.sources), io.cwd)}\n`);
    return;
  }
  const message = describeFailure(failure);
  if (options.json) io.stdout.write(`${JSON.stringify([{ severity: "error", code: failure.reason, message }])}\n`);
  else io.stderr.write(`orc: error: ${message}\n`);
}

/** Prints the failure and returns its exit code: `return fail(io, failure, options)` ends a command. */
export function fail(io: Io, failure: Failure, options: { readonly json: boolean }): number {
  reportFailure(io, failure, options);
  return exitCodeFor(failure);
}

export function describeFailure(failure: Failure): string {
  switch (failure.reason) {
    case "config":
      return `${failure.diagnostics.length} configuration error(s)`;
    case "usage":
      return failure.message;
    case "unknown-run":
      return `unknown run "${failure.run}" (see \`orc runs\`)`;
    case "run-busy":
      return `run ${failure.run} is still running in process ${failure.pid}`;
    case "not-resumable":
      return `run ${failure.run} is ${failure.status}; only paused, interrupted or crashed runs can be resumed`;
    case "state":
    case "state-lost":
      return failure.message;
    case "run-active":
      return `run ${failure.run} is active in process ${failure.pid}: stop it (Ctrl-C, or let it finish), then roll back`;
    case "restore-failed":
      return failure.message;
  }
}
