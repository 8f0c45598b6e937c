/**
 * A fast path for pass 1: one linear scan that turns the plain, clean YAML most config files are written in straight
 * into data, without running yaml's lexer, parser and composer (~150 ms on a 1,000-task pipeline in a cold CLI).
 *
 * It answers only when it is sure: anything outside its subset, and anything the full path would report (an error or
 * a warning), returns undefined, and the caller runs the full path. It also counts the tokens yaml's Lexer would emit
 * for the text, so that the MAX_TOKENS bound keeps its meaning: past it, it declines and the full path says why.
 *
 * The subset: a mapping at the top (after an optional `---`); block mappings and sequences, `- key: v` compact maps in
 * sequences, a sequence at its key's indentation; one-line plain, single-quoted and double-quoted (no backslash)
 * scalars; flow sequences and mappings of those, nested, on one line; literal and folded block scalars (`|`, `>`, with
 * `-`/`+`, no indentation indicator, no leading empty line; folded ones without more-indented lines); comments after a
 * space; blank lines. LF line endings only; no tabs, control characters or byte order mark. Declined, among others:
 * anchors, aliases, tags, `?` keys, directives, more documents or `...`, multi-line plain and quoted scalars, nested
 * `- - x`, empty, duplicate, `<<`, prototype-polluting and over-long keys, collections as keys, and nesting past
 * maxDepth. tests/config-yaml-fast.test.ts checks it against the full path.
 */
import { keyText } from "./locate.js";
import { resolveCoreScalar } from "./yaml-core-schema.js";

export interface FastYaml {
  readonly value: Record<string, unknown>;
  /** How many tokens yaml's Lexer yields for the same text (its marker tokens included). */
  readonly tokens: number;
}

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype", "<<"]);
/** yaml refuses implicit keys longer than 1024 characters; stay clear of the edge. */
const MAX_KEY_LENGTH = 1000;

const LF = 10;
const SPACE = 32;
const HASH = 35;
const DASH = 45;
const COLON = 58;
const SQUOTE = 39;
const DQUOTE = 34;
const BACKSLASH = 92;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
const COMMA = 44;
const PIPE = 124;
const GT = 62;

/** Characters no plain scalar in the subset starts with (by char code). */
const INDICATOR = new Uint8Array(128);
for (const c of "#,[]{}&*!|>'\"%@`?:") INDICATOR[c.charCodeAt(0)] = 1;

/** Thrown to leave the scan: the text is outside the subset. One instance, made once: declining costs no stack trace. */
const DECLINE = new Error("outside the fast path's subset");

function decline(): never {
  throw DECLINE;
}

/** Parses `text` when it is in the subset and has at most `maxTokens` tokens and `maxDepth` levels; else undefined. */
export function parseFastYaml(text: string, maxTokens: number, maxDepth: number): FastYaml | undefined {
  if (!plainText(text)) return undefined;
  try {
    const scanner = new Scanner(text, maxTokens, maxDepth);
    const value = scanner.document();
    return scanner.tokens > maxTokens ? undefined : { value, tokens: scanner.tokens };
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  }
}

/**
 * No tabs, carriage returns, control characters, byte order marks or Unicode line separators anywhere. One native
 * regex scan: the whole text, before the JIT has warmed up, costs far less than a loop over its characters.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const UNCLEAN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff\u2028\u2029]/;

function plainText(text: string): boolean {
  return !UNCLEAN.test(text);
}

function isBlank(c: number): boolean {
  return c === SPACE || c === LF || Number.isNaN(c);
}

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

class Scanner {
  tokens = 0;
  /** The current line: its start, its end (the index of its newline, or the text's length), its indentation. */
  private start = 0;
  private end = 0;
  private indent = 0;

  constructor(
    private readonly text: string,
    private readonly maxTokens: number,
    private readonly maxDepth: number,
  ) {
    this.setLine(0);
  }

  document(): Record<string, unknown> {
    this.skipBlankLines(true);
    if (this.atEnd()) decline();
    this.tokens++; // the lexer's document-start marker
    if (this.marker) {
      if (!this.text.startsWith("---", this.start)) decline();
      this.tokens++;
      this.finishLine(this.start + 3);
      this.skipBlankLines();
      if (this.atEnd()) decline();
    }
    if (this.indent !== 0) decline();
    const value = this.mapping(this.start, 1);
    if (!this.atEnd()) decline();
    return value;
  }

  // ---- lines ----

  private atEnd(): boolean {
    return this.start >= this.text.length;
  }

  private setLine(start: number): void {
    // Past the bound the full path refuses the file at once: stop scanning it here too.
    if (this.tokens > this.maxTokens) decline();
    const text = this.text;
    this.start = start;
    const newline = text.indexOf("\n", start);
    this.end = newline === -1 ? text.length : newline;
    let i = start;
    while (i < this.end && text.charCodeAt(i) === SPACE) i++;
    this.indent = i - start;
    this.marker = i === start && (text.startsWith("---", i) || text.startsWith("...", i)) && isBlank(this.text.charCodeAt(i + 3));
  }

  /** The start of the last content line whose indentation was counted. */
  private counted = -1;
  /** Whether the current line starts with a document marker (`---` or `...`). */
  private marker = false;

  private nextLine(): void {
    this.setLine(this.end + 1);
  }

  /**
   * Skips lines that hold only spaces and perhaps a comment, counting their tokens. Declines at a document marker
   * (only the document's first line may be `---`): more documents, or a document end, are left to the full path.
   */
  private skipBlankLines(allowMarker = false): void {
    while (!this.atEnd()) {
      const first = this.start + this.indent;
      if (first < this.end && this.text.charCodeAt(first) !== HASH) {
        if (this.marker && !allowMarker) decline();
        // A content line's indentation is one token; count it once, however often the line is looked at.
        if (this.indent > 0 && this.counted !== this.start) this.tokens++;
        this.counted = this.start;
        return;
      }
      if (this.indent > 0) this.tokens++;
      if (first < this.end) this.tokens++;
      if (this.end < this.text.length) this.tokens++;
      this.nextLine();
    }
  }

  /** At `i` on the current line the content is over: spaces, perhaps a comment after a space, the newline. */
  private finishLine(i: number): void {
    let j = i;
    while (j < this.end && this.text.charCodeAt(j) === SPACE) j++;
    if (j > i) this.tokens++;
    if (j < this.end) {
      // A comment must be separated from what comes before it by a space.
      if (this.text.charCodeAt(j) !== HASH || this.text.charCodeAt(j - 1) !== SPACE) decline();
      this.tokens++;
    }
    if (this.end < this.text.length) this.tokens++;
    this.nextLine();
  }

  /** The next content line, if it continues the collection at column `column`; declines on one indented deeper. */
  private continues(column: number): boolean {
    this.skipBlankLines();
    if (this.atEnd() || this.indent < column) return false;
    if (this.indent > column) decline();
    return true;
  }

  private isSeqItem(i: number): boolean {
    return this.text.charCodeAt(i) === DASH && (i + 1 === this.end || this.text.charCodeAt(i + 1) === SPACE);
  }

  // ---- block collections ----

  /** A block mapping whose first key starts at `at` on the current line (its column is the mapping's). */
  private mapping(at: number, depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) decline();
    const column = at - this.start;
    const map: Record<string, unknown> = {};
    let i = at;
    for (;;) {
      if (this.isSeqItem(i)) decline();
      const key = this.blockKey(i);
      if (Object.prototype.hasOwnProperty.call(map, key.name)) decline();
      map[key.name] = this.blockValue(key.after, column, depth, true);
      if (!this.continues(column)) return map;
      i = this.start + this.indent;
    }
  }

  /** A block sequence whose first `-` is at the start of the current line's content. */
  private sequence(depth: number): unknown[] {
    if (depth > this.maxDepth) decline();
    const column = this.indent;
    const items: unknown[] = [];
    for (;;) {
      const dash = this.start + column;
      if (!this.isSeqItem(dash)) return items;
      this.tokens++;
      let i = dash + 1;
      while (i < this.end && this.text.charCodeAt(i) === SPACE) i++;
      if (i > dash + 1) this.tokens++;
      items.push(this.itemValue(i, column, depth));
      if (!this.continues(column)) return items;
    }
  }

  /** A sequence item's content from `i`: a compact mapping, a node on this line, or one on the lines below. */
  private itemValue(i: number, column: number, depth: number): unknown {
    if (i < this.end && this.isSeqItem(i)) decline();
    if (i < this.end && this.startsKey(i)) return this.mapping(i, depth + 1);
    return this.blockValue(i, column, depth, false);
  }

  /** Whether the content at `i` is `key: …` (a plain or quoted key on this line, then `:` and a space or the end). */
  private startsKey(i: number): boolean {
    const c = this.text.charCodeAt(i);
    let j: number;
    if (c === SQUOTE || c === DQUOTE) {
      j = this.quotedEnd(i);
      while (j < this.end && this.text.charCodeAt(j) === SPACE) j++;
      return this.text.charCodeAt(j) === COLON && isBlank(this.text.charCodeAt(j + 1));
    }
    if (c === LBRACKET || c === LBRACE || c === HASH) return false;
    j = this.plainEnd(i);
    return this.text.charCodeAt(j) === COLON;
  }

  /** `key:` at `i`, with the spaces after the colon: the key's property name, and where its value may start. */
  private blockKey(i: number): { name: string; after: number } {
    const c = this.text.charCodeAt(i);
    let name: string;
    let j: number;
    if (c === SQUOTE || c === DQUOTE) {
      j = this.quotedEnd(i);
      name = this.quotedValue(i, j);
      this.tokens++;
    } else {
      this.plainStart(i);
      j = this.plainTrim(i, this.plainEnd(i));
      name = keyText(resolveCoreScalar(this.text.slice(i, j)));
      this.tokens += 2;
    }
    if (name === "" || FORBIDDEN_KEYS.has(name)) decline();
    let colon = j;
    while (colon < this.end && this.text.charCodeAt(colon) === SPACE) colon++;
    if (colon > j) this.tokens++;
    if (this.text.charCodeAt(colon) !== COLON || !isBlank(this.text.charCodeAt(colon + 1)) || colon - i > MAX_KEY_LENGTH) decline();
    this.tokens++;
    let after = colon + 1;
    while (after < this.end && this.text.charCodeAt(after) === SPACE) after++;
    if (after > colon + 1) this.tokens++;
    return { name, after };
  }

  /**
   * The node from `i` on the current line (a map value or sequence item owned by column `column`), or, when the line
   * ends there, the block collection on the lines below, or null.
   */
  private blockValue(i: number, column: number, depth: number, sameIndentSeq: boolean): unknown {
    if (i === this.end || this.text.charCodeAt(i) === HASH) {
      this.finishLine(i);
      this.skipBlankLines();
      if (this.atEnd()) return null;
      const first = this.start + this.indent;
      if (this.indent > column) return this.isSeqItem(first) ? this.sequence(depth + 1) : this.mapping(first, depth + 1);
      if (sameIndentSeq && this.indent === column && this.isSeqItem(first)) return this.sequence(depth + 1);
      return null;
    }
    const c = this.text.charCodeAt(i);
    if (c === PIPE || c === GT) return this.blockScalar(i, column);
    let value: unknown;
    let j: number;
    if (c === LBRACKET || c === LBRACE) {
      j = this.flowNode(i, depth + 1);
      value = this.flowValue;
    } else if (c === SQUOTE || c === DQUOTE) {
      j = this.quotedEnd(i);
      value = this.quotedValue(i, j);
      this.tokens++;
    } else {
      this.plainStart(i);
      j = this.plainEnd(i);
      if (this.text.charCodeAt(j) === COLON) decline(); // `a: b: c`, or `- a: b: c`
      value = resolveCoreScalar(this.text.slice(i, this.plainTrim(i, j)));
      this.tokens += 2;
      j = this.plainTrim(i, j);
    }
    this.finishLine(j);
    return value;
  }

  // ---- scalars ----

  /** Plain scalars may not start with an indicator; the ones that may in YAML, rarely seen in configs, are declined. */
  private plainStart(i: number): void {
    const c = this.text.charCodeAt(i);
    if (c < 0x80 && INDICATOR[c] === 1) decline();
    if (c === DASH) {
      const next = this.text.charCodeAt(i + 1);
      if (isBlank(next) || isFlowIndicator(next)) decline();
    }
  }

  /**
   * Where a one-line plain scalar in block context that starts at `i` stops: at `: `/`:` + end (the index of the
   * colon), at ` #`, or at the line's end. Declines when it would continue on the next line.
   */
  private plainEnd(i: number): number {
    const text = this.text;
    const end = this.end;
    let j = i;
    for (; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c === COLON) {
        if (j + 1 === end || text.charCodeAt(j + 1) === SPACE) return j;
      } else if (c === SPACE && text.charCodeAt(j + 1) === HASH) {
        return j;
      }
    }
    return j;
  }

  /** `j` moved back over the spaces before it (but not before `i`). */
  private plainTrim(i: number, j: number): number {
    let k = j;
    while (k > i && this.text.charCodeAt(k - 1) === SPACE) k--;
    return k;
  }

  /** The index just past the closing quote of the quoted scalar at `i`; declines when it does not close on this line. */
  private quotedEnd(i: number): number {
    const text = this.text;
    const quote = text.charCodeAt(i);
    for (let j = i + 1; j < this.end; j++) {
      const c = text.charCodeAt(j);
      if (c === BACKSLASH && quote === DQUOTE) decline();
      if (c === quote) {
        if (quote === SQUOTE && text.charCodeAt(j + 1) === SQUOTE) {
          j++;
          continue;
        }
        return j + 1;
      }
    }
    return decline();
  }

  private quotedValue(i: number, j: number): string {
    const inner = this.text.slice(i + 1, j - 1);
    return this.text.charCodeAt(i) === SQUOTE ? inner.replaceAll("''", "'") : inner;
  }

  /** `|` or `>` at `i`, the header of a block scalar owned by column `column`, and its body on the lines below. */
  private blockScalar(i: number, column: number): string {
    const text = this.text;
    let h = i + 1;
    while (h < this.end && !isBlank(this.text.charCodeAt(h)) && this.text.charCodeAt(h) !== HASH) h++;
    const header = text.slice(i, h);
    if (header.length > 2 || (header.length === 2 && header[1] !== "-" && header[1] !== "+")) decline();
    const literal = header[0] === "|";
    const chomp = header[1] ?? "";
    this.tokens++;
    if (this.end === text.length) decline();
    this.finishLine(h);
    if (this.atEnd()) decline();
    // The body: lines indented at least as deep as the first (which must be deeper than the owner), and empty lines.
    const indent = this.indent;
    if (indent <= column || this.start + indent === this.end) decline();
    let first = true;
    let blanks = 0;
    let value = "";
    while (!this.atEnd()) {
      if (this.start === this.end) {
        blanks++;
        this.nextLine();
        continue;
      }
      if (this.start + this.indent === this.end) decline(); // a line of spaces: empty, or content?
      if (this.indent < indent) break;
      if (this.end === text.length) decline(); // the body's last line needs its newline
      if (this.indent > indent && !literal) decline();
      // Literal: lines kept as they are. Folded: a single line break becomes a space, n empty lines n newlines.
      if (!first) value += literal ? "\n".repeat(blanks + 1) : blanks > 0 ? "\n".repeat(blanks) : " ";
      value += text.slice(this.start + indent, this.end);
      first = false;
      blanks = 0;
      this.nextLine();
    }
    this.tokens += 2;
    if (chomp === "+") {
      value += "\n".repeat(blanks + 1);
    } else {
      // The lexer leaves trailing empty lines out of the scalar's token: one newline token each.
      this.tokens += blanks;
      if (chomp === "") value += "\n";
    }
    return value;
  }

  // ---- flow collections (on one line) ----

  /** The value of the flow node the last flow… call read. */
  private flowValue: unknown;

  /** A flow collection (at `depth`) or scalar at `i`, into flowValue; returns the index past it. */
  private flowNode(i: number, depth: number): number {
    const c = this.text.charCodeAt(i);
    if (c !== LBRACKET && c !== LBRACE) return this.flowScalar(i);
    if (depth > this.maxDepth) decline();
    return c === LBRACKET ? this.flowSequence(i, depth) : this.flowMapping(i, depth);
  }

  /** `[a, "b", {c: d}]` at `i`; returns the index past `]`. */
  private flowSequence(i: number, depth: number): number {
    const items: unknown[] = [];
    this.tokens++;
    let j = this.flowSpaces(i + 1);
    if (this.text.charCodeAt(j) === RBRACKET) {
      this.tokens++;
      this.flowValue = items;
      return j + 1;
    }
    for (;;) {
      j = this.flowNode(j, depth + 1);
      if (this.text.charCodeAt(j) === COLON) decline();
      items.push(this.flowValue);
      j = this.flowSpaces(j);
      const c = this.text.charCodeAt(j);
      this.tokens++;
      if (c === RBRACKET) {
        this.flowValue = items;
        return j + 1;
      }
      if (c !== COMMA) decline();
      j = this.flowSpaces(j + 1);
      if (this.text.charCodeAt(j) === RBRACKET || this.text.charCodeAt(j) === COMMA) decline();
    }
  }

  /** `{ a: b, "c": [d] }` at `i`; returns the index past `}`. */
  private flowMapping(i: number, depth: number): number {
    const map: Record<string, unknown> = {};
    this.tokens++;
    let j = this.flowSpaces(i + 1);
    if (this.text.charCodeAt(j) === RBRACE) {
      this.tokens++;
      this.flowValue = map;
      return j + 1;
    }
    for (;;) {
      const keyStart = j;
      j = this.flowScalar(j);
      const name = keyText(this.flowValue);
      if (name === "" || FORBIDDEN_KEYS.has(name) || Object.prototype.hasOwnProperty.call(map, name)) decline();
      j = this.flowSpaces(j);
      if (this.text.charCodeAt(j) !== COLON || this.text.charCodeAt(j + 1) !== SPACE || j - keyStart > MAX_KEY_LENGTH) decline();
      this.tokens++;
      j = this.flowSpaces(j + 1);
      j = this.flowNode(j, depth + 1);
      if (this.text.charCodeAt(j) === COLON) decline();
      map[name] = this.flowValue;
      j = this.flowSpaces(j);
      const c = this.text.charCodeAt(j);
      this.tokens++;
      if (c === RBRACE) {
        this.flowValue = map;
        return j + 1;
      }
      if (c !== COMMA) decline();
      j = this.flowSpaces(j + 1);
      if (this.text.charCodeAt(j) === RBRACE || this.text.charCodeAt(j) === COMMA) decline();
    }
  }

  private flowSpaces(i: number): number {
    let j = i;
    while (j < this.end && this.text.charCodeAt(j) === SPACE) j++;
    if (j > i) this.tokens++;
    return j;
  }

  /** A quoted or plain scalar inside a flow collection at `i` (into flowValue); returns the index past it. */
  private flowScalar(i: number): number {
    const c = this.text.charCodeAt(i);
    if (c === SQUOTE || c === DQUOTE) {
      const j = this.quotedEnd(i);
      this.flowValue = this.quotedValue(i, j);
      this.tokens++;
      return j;
    }
    if (i >= this.end || isFlowIndicator(c)) decline();
    this.plainStart(i);
    const text = this.text;
    let j = i;
    let last = i;
    for (; j < this.end; j++) {
      const d = text.charCodeAt(j);
      if (d === COLON) {
        const next = text.charCodeAt(j + 1);
        if (j + 1 === this.end || next === SPACE || isFlowIndicator(next)) break;
        last = j + 1;
      } else if (d === SPACE) {
        if (text.charCodeAt(j + 1) === HASH) decline();
      } else if (isFlowIndicator(d)) {
        break;
      } else {
        last = j + 1;
      }
    }
    if (j === this.end) decline();
    this.flowValue = resolveCoreScalar(text.slice(i, last));
    this.tokens += 2;
    return last;
  }
}
