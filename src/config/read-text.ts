import { readFileSync, statSync } from "node:fs";
import { err, ok, type Result } from "../core/result.js";

/** orc reads no config file, template or rule pack larger than this: a bound on memory and time for hostile input. */
export const MAX_FILE_BYTES = 1024 * 1024;

export type ReadProblem =
  | { readonly kind: "missing" }
  | { readonly kind: "not-a-file" }
  | { readonly kind: "too-large"; readonly bytes: number }
  | { readonly kind: "binary" }
  | { readonly kind: "not-utf8" }
  | { readonly kind: "unreadable"; readonly detail: string };

/** Reads a UTF-8 text file (a leading BOM dropped), refusing what is not a small regular text file. */
export function readText(file: string): Result<string, ReadProblem> {
  let bytes: Buffer;
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return err({ kind: "missing" });
    // A FIFO or a device (/dev/zero) would block or never end: only regular files are read.
    if (!stat.isFile()) return err({ kind: "not-a-file" });
    if (stat.size > MAX_FILE_BYTES) return err({ kind: "too-large", bytes: stat.size });
    bytes = readFileSync(file);
  } catch (error: unknown) {
    return err({ kind: "unreadable", detail: (error as NodeJS.ErrnoException).code ?? String(error) });
  }
  if (bytes.length > MAX_FILE_BYTES) return err({ kind: "too-large", bytes: bytes.length });
  if (bytes.includes(0)) return err({ kind: "binary" });
  try {
    return ok(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return err({ kind: "not-utf8" });
  }
}

/** Completes "FILE ..." in a sentence: `not found`, `is a directory or special file`, ... */
export function describeReadProblem(problem: ReadProblem): string {
  switch (problem.kind) {
    case "missing":
      return "not found";
    case "not-a-file":
      return "is not a regular file";
    case "too-large":
      return `is too large (${(problem.bytes / MAX_FILE_BYTES).toFixed(1)} MiB; the limit is 1 MiB)`;
    case "binary":
      return "is a binary file (it contains NUL bytes)";
    case "not-utf8":
      return "is not UTF-8 text";
    case "unreadable":
      return `cannot be read (${problem.detail})`;
  }
}

/** The diagnostic code for a file orc cannot read as text. */
export function readProblemCode(problem: ReadProblem): string {
  return problem.kind === "missing" || problem.kind === "not-a-file" ? "unreadable" : problem.kind;
}
