/**
 * Splits streamed output into lines and parses each as JSON as it arrives, so an agent's events are known while it
 * runs (its session id, a limit) and not only after it exits. Lines that are not JSON objects (a CLI's warnings) are
 * counted and otherwise ignored.
 */
export class JsonLines {
  private pending = "";
  /** Non-empty lines that were not JSON objects. */
  ignored = 0;

  constructor(private readonly onRecord: (record: Readonly<Record<string, unknown>>) => void) {}

  push(chunk: string): void {
    this.pending += chunk;
    let newline = this.pending.indexOf("\n");
    while (newline >= 0) {
      this.line(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf("\n");
    }
  }

  /** The last line may come without a newline. */
  end(): void {
    const rest = this.pending;
    this.pending = "";
    this.line(rest);
  }

  private line(text: string): void {
    const trimmed = text.trim();
    if (trimmed === "") return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      this.ignored += 1;
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.ignored += 1;
      return;
    }
    this.onRecord(value as Record<string, unknown>);
  }
}

// Narrow readers for untyped JSON: an agent's output is input, never trusted to have the shape its docs promise.
export type Json = Readonly<Record<string, unknown>>;

export function obj(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
export function arr(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
