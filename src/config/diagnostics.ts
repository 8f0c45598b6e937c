import type { Diagnostic } from "../core/diagnostic.js";
import type { Path } from "./describe.js";
import type { Locator, Span } from "./locate.js";

/** Past this many problems in one file, the rest are counted in one closing diagnostic: a hostile file stays readable. */
export const MAX_DIAGNOSTICS = 100;

/** Collects the diagnostics of one file, placing each by YAML path or offset. */
export class Diagnostics {
  private readonly items: Diagnostic[] = [];
  private dropped = 0;
  private errors = 0;

  constructor(
    readonly file: string,
    readonly locator: Locator,
  ) {}

  error(code: string, message: string, path: Path = [], part: "key" | "value" = "value"): void {
    this.add(() => this.locator.span(path, part), "error", code, message);
  }

  warning(code: string, message: string, path: Path = [], part: "key" | "value" = "value"): void {
    this.add(() => this.locator.span(path, part), "warning", code, message);
  }

  /** `span` is a function so that a problem past the limit costs no lookup. */
  add(span: Span | (() => Span), severity: Diagnostic["severity"], code: string, message: string): void {
    if (severity === "error") this.errors++;
    if (this.full) {
      this.dropped++;
      return;
    }
    this.items.push({ file: this.file, ...(typeof span === "function" ? span() : span), severity, code, message });
  }

  hasErrors(): boolean {
    return this.errors > 0;
  }

  /** True once further diagnostics would be dropped: callers skip costly work such as did-you-mean searches. */
  get full(): boolean {
    return this.items.length >= MAX_DIAGNOSTICS;
  }

  /** In file order; a final note counts the problems left out. */
  list(): Diagnostic[] {
    const sorted = [...this.items].sort((a, b) => a.line - b.line || a.col - b.col);
    const last = sorted.at(-1);
    if (this.dropped > 0 && last !== undefined) {
      sorted.push({ ...last, severity: "error", code: "too-many-problems", message: `${this.dropped} more problems not shown` });
    }
    return sorted;
  }
}
