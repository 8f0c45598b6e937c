import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Document } from "yaml";
import type { Path } from "./describe.js";

/** Where a diagnostic points: 1-based line and column and the length of the underlined span on that line. */
export interface Span {
  readonly line: number;
  readonly col: number;
  readonly length: number;
}

interface Ranged {
  readonly range?: readonly [number, number, number] | null;
}

/** Maps offsets and YAML paths of one file's text to spans. Without a document (unparsable text) paths fall back to 1:1. */
export class Locator {
  private lineCounter: LineCounter | undefined;

  constructor(
    private readonly text: string,
    private readonly doc?: Document.Parsed,
  ) {}

  private get lines(): LineCounter {
    if (this.lineCounter === undefined) {
      const lines = new LineCounter();
      const text = this.text;
      lines.addNewLine(0);
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines.addNewLine(i + 1);
      this.lineCounter = lines;
    }
    return this.lineCounter;
  }

  /** The span from `start` to `end` (offsets), cut at the end of the start's line, trailing blanks trimmed; at least 1. */
  offsets(start: number, end: number = start + 1): Span {
    // yaml reports an unterminated scalar at the end of the text: past a final newline, that is the last line's end.
    const last = this.text.endsWith("\n") ? this.text.length - 1 : this.text.length;
    const from = Math.max(0, Math.min(start, last));
    const { line, col } = this.lines.linePos(from);
    const lineEnd = this.text.indexOf("\n", from);
    const to = Math.min(end, lineEnd === -1 ? this.text.length : lineEnd);
    const length = this.text.slice(from, Math.max(from, to)).trimEnd().length;
    return { line, col, length: Math.max(1, length) };
  }

  /**
   * The span of the node at `path` (its key with `part: "key"`). A path that leaves the document, e.g. `needs[0]` of the
   * shorthand `needs: design`, points at the nearest node that exists, which is what the user wrote.
   */
  span(path: Path, part: "key" | "value" = "value"): Span {
    const doc = this.doc;
    if (doc === undefined) return { line: 1, col: 1, length: 1 };
    let node: unknown = doc.contents;
    for (const [i, key] of path.entries()) {
      if (isAlias(node)) node = node.resolve(doc) ?? node;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && keyText(p.key.value) === String(key));
        if (pair === undefined) break;
        const last = i === path.length - 1;
        if ((last && part === "key") || isEmpty(pair.value)) return this.node(pair.key);
        node = pair.value;
      } else if (isSeq(node)) {
        const item: unknown = node.items[Number(key)];
        if (item === undefined || item === null || isEmpty(item)) break;
        node = item;
      } else break;
    }
    return this.node(node);
  }

  /** A node's span: a scalar or flow collection whole; a block collection by its first entry when that fits one line. */
  node(node: unknown): Span {
    const range = (node as Ranged | null)?.range;
    if (range === undefined || range === null) return this.offsets(0);
    const start = range[0];
    let end = range[1];
    if ((isMap(node) || isSeq(node)) && node.flow !== true) {
      const first: unknown = node.items[0];
      const firstEnd = isPair(first)
        ? ((first.value as Ranged | null)?.range?.[1] ?? (first.key as Ranged | null)?.range?.[1])
        : (first as Ranged | undefined)?.range?.[1];
      end = firstEnd ?? start + 1;
      if (this.text.slice(start, end).includes("\n")) {
        end = isPair(first) ? ((first.key as Ranged | null)?.range?.[1] ?? start + 1) : start + 1;
      }
    }
    return this.offsets(start, end);
  }
}

/** How yaml turns a scalar key into a JS property name (`null` becomes ""). */
export function keyText(value: unknown): string {
  if (typeof value === "string") return value;
  return typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" ? String(value) : "";
}

/** `key:` with nothing after it parses as an empty scalar of length 0: point at the key instead. */
function isEmpty(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  if (!isScalar(node) || node.value !== null) return false;
  const range = node.range;
  return range !== undefined && range !== null && range[0] === range[1];
}
