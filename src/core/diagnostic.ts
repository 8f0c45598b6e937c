/** A problem in a file the user wrote, pointing at the offending node (1-based line and column). */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Length of the marked span on `line`, at least 1. */
  readonly length: number;
  readonly severity: "error" | "warning";
  /** Stable machine-readable code, e.g. `unknown-need`, `cycle`, `schema`. */
  readonly code: string;
  readonly message: string;
}

/** The `--json` shape of a diagnostic, as in the contract: `{file, line, col, severity, code, message}`. */
export function diagnosticToJson(d: Diagnostic): Record<string, unknown> {
  return { file: d.file, line: d.line, col: d.col, severity: d.severity, code: d.code, message: d.message };
}
