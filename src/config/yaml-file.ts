/**
 * Pass 1: text → YAML document with positions → plain data, refusing hostile input early and cheaply. Everything a
 * user can write becomes a diagnostic here, never an exception: syntax errors, nesting deeper than MAX_DEPTH, alias
 * bombs and self-containing aliases, keys that could pollute prototypes, duplicate keys, a file that is not a mapping.
 */
import { Composer, CST, isAlias, isMap, isNode, isScalar, isSeq, Lexer, Parser, YAMLParseError, type Document } from "yaml";
import { q } from "./describe.js";
import { Diagnostics } from "./diagnostics.js";
import { keyText, Locator } from "./locate.js";
import { describeReadProblem, readProblemCode, readText } from "./read-text.js";

export const MAX_DEPTH = 64;
/** yaml's parser takes up to ~0.5 s per 100k tokens (cold) and reports every bad token: past this, refuse before parsing. */
export const MAX_TOKENS = 50_000;
const MAX_ALIAS_COUNT = 100;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
/** Lexer tokens that mark states, not source text (yaml's cst.ts: DOCUMENT, FLOW_END, SCALAR). */
const MARKERS = new Set(["\u0002", "\u0018", "\u001f"]);

export interface YamlFile {
  readonly file: string;
  /** The text as read, or undefined when the file could not be read as text. */
  readonly text: string | undefined;
  readonly out: Diagnostics;
  /** The document's data (a mapping), or undefined when pass 1 failed. */
  readonly value: Record<string, unknown> | undefined;
}

/** Reads and parses `file` (absolute). */
export function readYamlFile(file: string): YamlFile {
  const text = readText(file);
  if (!text.ok) {
    const out = new Diagnostics(file, new Locator(""));
    out.error(readProblemCode(text.failure), `file ${describeReadProblem(text.failure)}`);
    return { file, text: undefined, out, value: undefined };
  }
  return parseYaml(file, text.value);
}

/** Pass 1, through the `yaml` library: every diagnostic comes from here. */
export function parseYaml(file: string, text: string): YamlFile {
  const fail = (out: Diagnostics): YamlFile => ({ file, text, out, value: undefined });
  const scan = prescan(text);
  if (!Array.isArray(scan)) {
    const early = new Diagnostics(file, new Locator(text));
    early.add(early.locator.offsets(scan.offset), "error", scan.code, scan.message);
    return fail(early);
  }
  const doc = parseTokens(scan, text.length);
  const out = new Diagnostics(file, new Locator(text, doc));
  for (const error of doc.errors) {
    const code = error.code === "RESOURCE_EXHAUSTION" ? "too-deep" : "yaml-syntax";
    const message = code === "too-deep" ? `nesting is deeper than ${MAX_DEPTH} levels` : yamlMessage(error.message);
    out.add(out.locator.offsets(error.pos[0], error.pos[1]), "error", code, message);
  }
  if (out.hasErrors()) return fail(out);
  for (const warning of doc.warnings) {
    out.add(out.locator.offsets(warning.pos[0], warning.pos[1]), "warning", "yaml-warning", yamlMessage(warning.message));
  }
  const root = doc.contents;
  if (root === null) {
    out.error("empty-file", "the file is empty: expected a mapping of settings");
    return fail(out);
  }
  if (!isMap(root)) {
    const found = isSeq(root) ? "a list" : isAlias(root) ? "an alias" : "a single value";
    out.add(out.locator.node(root), "error", "not-a-mapping", `expected a mapping of settings at the top level, found ${found}`);
    return fail(out);
  }
  inspectTree(doc, out);
  if (out.hasErrors()) return fail(out);
  try {
    return { file, text, out, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown> };
  } catch {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (the "billion laughs" attack).
    out.error("alias-limit", `aliases expand to more than ${MAX_ALIAS_COUNT} nodes`);
    return fail(out);
  }
}

interface ScanProblem {
  readonly offset: number;
  readonly code: string;
  readonly message: string;
}

/**
 * A linear pass over yaml's lexer, before the parser (which recurses, and pretty-prints errors with a regex that runs
 * out of memory on ~500k nested brackets): bounds the token count, flow nesting, and compact nesting (`- - - x`).
 * Returns the tokens (at most MAX_TOKENS), so that the parser does not lex the text a second time (a third of the
 * time `orc validate` takes on a 1,000-task pipeline).
 */
function prescan(text: string): ScanProblem | string[] {
  const lexemes: string[] = [];
  const deep = (offset: number): ScanProblem => ({ offset, code: "too-deep", message: `nesting is deeper than ${MAX_DEPTH} levels` });
  let offset = 0;
  let tokens = 0;
  let flow = 0;
  let compact = 0;
  for (const token of new Lexer().lex(text)) {
    if (++tokens > MAX_TOKENS) {
      return { offset, code: "too-complex", message: `the file has more than ${MAX_TOKENS} YAML tokens; orc reads smaller files` };
    }
    switch (CST.tokenType(token)) {
      case "flow-map-start":
      case "flow-seq-start":
        if (++flow > MAX_DEPTH) return deep(offset);
        break;
      case "flow-map-end":
      case "flow-seq-end":
        flow = Math.max(0, flow - 1);
        break;
      case "seq-item-ind":
      case "explicit-key-ind":
        if (++compact > MAX_DEPTH) return deep(offset);
        break;
      case "newline":
        compact = 0;
        break;
      default:
        break;
    }
    if (!MARKERS.has(token)) offset += token.length;
    lexemes.push(token);
  }
  return lexemes;
}

/**
 * yaml's `parseDocument` (no pretty errors; duplicate keys left to inspectTree, which says where the first one is),
 * fed the tokens prescan already has.
 */
function parseTokens(lexemes: readonly string[], length: number): Document.Parsed {
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  for (const lexeme of lexemes) for (const token of parser.next(lexeme)) tokens.push(token);
  for (const token of parser.end()) tokens.push(token);
  let doc: Document.Parsed | undefined;
  for (const next of new Composer({ prettyErrors: false, uniqueKeys: false, resolveKnownTags: false }).compose(tokens, true, length)) {
    if (doc === undefined) {
      doc = next;
    } else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], "MULTIPLE_DOCS", "Source contains multiple documents; please use YAML.parseAllDocuments()"));
      break;
    }
  }
  // compose(…, true, …) always yields a document, an empty one for empty text.
  if (doc === undefined) throw new Error("yaml composed no document");
  return doc;
}

/**
 * One walk over the syntax tree: depth, keys, aliases. It never follows an alias, so it visits each node once, and it
 * tracks anchors itself (yaml's `Alias.resolve` scans the whole document on every call).
 */
function inspectTree(doc: Document.Parsed, out: Diagnostics): void {
  const anchors = new Map<string, unknown>();
  const open = new Set<unknown>();
  let aliases = 0;
  const visit = (node: unknown, depth: number): boolean => {
    if (isAlias(node)) {
      if (++aliases > MAX_ALIAS_COUNT) {
        out.add(out.locator.node(node), "error", "alias-limit", `more than ${MAX_ALIAS_COUNT} aliases`);
        return false;
      }
      if (!anchors.has(node.source)) {
        out.add(out.locator.node(node), "error", "unknown-alias", `alias ${q(`*${node.source}`)} has no anchor before it`);
      } else if (open.has(anchors.get(node.source))) {
        out.add(out.locator.node(node), "error", "alias-cycle", `alias ${q(`*${node.source}`)} is inside the node it refers to`);
      }
      return true;
    }
    if (isNode(node) && node.anchor !== undefined) anchors.set(node.anchor, node);
    if (!isMap(node) && !isSeq(node)) return true;
    if (depth > MAX_DEPTH) {
      out.add(out.locator.node(node), "error", "too-deep", `nesting is deeper than ${MAX_DEPTH} levels`);
      return false;
    }
    open.add(node);
    if (isSeq(node)) {
      for (const item of node.items) if (!visit(item, depth + 1)) return false;
    } else {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        checkKey(pair.key, seen, out);
        if (!visit(pair.value, depth + 1)) return false;
      }
    }
    open.delete(node);
    return true;
  };
  visit(doc.contents, 1);
}

function checkKey(key: unknown, seen: Map<string, number>, out: Diagnostics): void {
  if (!isScalar(key)) {
    out.add(out.locator.node(key), "error", "invalid-key", "keys must be plain strings, not lists, mappings or aliases");
    return;
  }
  const name = keyText(key.value);
  const first = seen.get(name);
  if (FORBIDDEN_KEYS.has(name)) {
    out.add(out.locator.node(key), "error", "forbidden-key", `key ${q(name)} is not allowed`);
  } else if (first !== undefined) {
    const line = out.locator.offsets(first).line;
    out.add(out.locator.node(key), "error", "duplicate-key", `duplicate key ${q(name)} (first on line ${line})`);
  } else {
    seen.set(name, key.range?.[0] ?? 0);
  }
}

/** yaml's messages, without the position it may append (the diagnostic has it) and with a lower-case start. */
function yamlMessage(message: string): string {
  const text = message.replace(/ at line \d+, column \d+[\s\S]*$/, "").trim();
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}
