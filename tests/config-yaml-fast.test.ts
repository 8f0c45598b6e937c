import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { Lexer, parse, stringify } from "yaml";
import { MAX_DEPTH, MAX_TOKENS, parseYaml, parseYamlFully } from "../src/config/yaml-file.js";
import { parseFastYaml } from "../src/config/yaml-fast.js";
import { resolveCoreScalar } from "../src/config/yaml-core-schema.js";
import { dagPipeline } from "../bench/apply-dag.mjs";
import { prng } from "./helpers/prng.js";
import { FUZZ_PIPELINE } from "./helpers/fuzz-pipeline.js";

/**
 * The fast path (src/config/yaml-fast.ts) must never change what orc reads: whenever it answers, the full path through
 * yaml must accept the same text without an error or a warning and give the same data (same key order, same types)
 * from the same number of lexer tokens. Inputs: the repo's YAML files, the bench pipeline, hand-written edge cases,
 * and thousands of seeded mutations of them.
 */
const ROOT = join(import.meta.dirname, "..");
const SEED = Number(process.env.YAML_FAST_SEED ?? 0x5eed_fa57);
const MUTATIONS = Number(process.env.YAML_FAST_MUTATIONS ?? 3000);
const GENERATED = Number(process.env.YAML_FAST_GENERATED ?? 1500);

function lexerTokens(text: string): number {
  return Array.from(new Lexer().lex(text)).length;
}

/** Deep equality that also tells -0 from 0, NaN from NaN's absence, key order, and plain objects from others. */
function same(a: unknown, b: unknown, at = "$"): string | undefined {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${at}: array vs not`;
    if (a.length !== b.length) return `${at}: length ${String(a.length)} vs ${String(b.length)}`;
    for (let i = 0; i < a.length; i++) {
      const problem = same(a[i], b[i], `${at}[${String(i)}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at}: prototypes differ`;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join("\u0000") !== kb.join("\u0000")) return `${at}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
    for (const key of ka) {
      const problem = same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${at}: ${typeof a} ${String(a)} vs ${typeof b} ${String(b)}`;
}

/** Checks one text; returns whether the fast path accepted it. */
function check(text: string): boolean {
  const fast = parseFastYaml(text, Number.POSITIVE_INFINITY, MAX_DEPTH);
  if (fast === undefined) return false;
  const full = parseYamlFully("test.yaml", text);
  const problems = full.out.list().map((d) => `${String(d.line)}:${String(d.col)} ${d.code} ${d.message}`);
  expect(problems, `the full path reports problems for text the fast path accepted:\n${text}`).toEqual([]);
  expect(same(fast.value, full.value), `values differ for:\n${text}`).toBeUndefined();
  expect(fast.tokens, `token counts differ for:\n${text}`).toBe(lexerTokens(text));
  return true;
}

function yamlFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(name)) files.push(path);
  }
  return files;
}

const REPO_FILES = yamlFiles(ROOT).map((file) => ({ name: relative(ROOT, file), text: readFileSync(file, "utf8") }));
const BENCH = dagPipeline(1000);

/** The fuzz tests' pipeline, with a block scalar so that mutations reach that part of the fast path too. */
const FUZZ_BASE = FUZZ_PIPELINE.replace("    prompt: Document it.\n", "    prompt: |\n      Document it.\n\n      Twice.\n");

/** Hand-written edge cases: [name, text, whether the fast path must accept it]. */
const EDGES: readonly (readonly [string, string, boolean])[] = [
  ["nulls", "a: null\nb: ~\nc: Null\nd: NULL\ne:\nf: nULL\ng: nulls\nh: ~~\n", true],
  ["booleans", "a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\ng: tRUE\nh: yes\ni: on\n", true],
  ["ints", "a: 0\nb: -0\nc: +12\nd: 0o17\ne: 0x1F\nf: 0xg\ng: 12345678901234567890\nh: 007\ni: 0o8\n", true],
  ["floats", "a: 1.5\nb: -.5\nc: 1e3\nd: 1.e-2\ne: .inf\nf: -.Inf\ng: .NaN\nh: +.INF\ni: 1_000\nj: 1.\nk: .nan\n", true],
  ["strings", "a: hello world\nb: a#b\nc: http://x.y/z?q=1\nd: -x\ne: a, b\nf: a [b] {c}\ng: 'single'\nh: \"double\"\n", true],
  ["single quote escapes", "a: 'it''s'\nb: ''\nc: '#not a comment'\n", true],
  ["double quote with backslash", 'a: "a\\tb"\n', false],
  ["block literal", "a: |\n  one\n    two\n\n  three\nb: 1\n", true],
  ["block literal strip", "a: |-\n  one\n\n\nb: 1\n", true],
  ["block literal keep", "a: |+\n  one\n\n\nb: 1\n", true],
  ["block literal keep at end", "a: |+\n  one\n\n", true],
  ["block folded", "a: >\n  one\n  two\n\n  three\n\n\n  four\nb: >-\n  x\n  y\nc: >+\n  z\n\n", true],
  ["block folded more indented", "a: >\n  one\n    two\n", false],
  ["block scalar indentation indicator", "a: |2\n   x\n", false],
  ["block scalar with comment", "a: | # note\n  x\n", true],
  ["block scalar in sequence", "a:\n  - |\n    x\n  - >-\n    y\n", true],
  ["block scalar content that looks like a comment", "a: |\n  # not a comment\n  x\nb: >\n  #y\n", true],
  ["block scalar in a compact mapping", "l:\n  - k: |-\n      one\n      two\n    j: 1\n", true],
  ["block scalar lines with trailing spaces", "a: |\n  x  \n  y \nb: >\n  x \n  y\n", true],
  ["block scalar line of spaces", "a: |\n  x\n   \n  y\n", false],
  ["block scalar keep, then comment", "a: |+\n  x\n\n# c\nb: 1\n", true],
  ["block scalar leading empty line", "a: |\n\n  x\n", false],
  ["block scalar without final newline", "a: |\n  x", false],
  ["block scalar empty", "a: |\nb: 1\n", false],
  ["comments after values", "a: 1 # one\nb: 'x'   # two\nc: [a] # three\nd: # four\n  e: 5\n", true],
  ["comment touching a quote", "a: 'x'# two\n", false],
  ["key with no value", "a:\nb:\n", true],
  ["empty items", "a:\n  -\n  - \n  - x\n", true],
  ["flow trailing comma", "a: [x, y,]\n", false],
  ["flow empty", "a: []\nb: {}\nc: [ ]\n", true],
  ["flow mapping", 'agent: { kind: command, run: "true" }\n', true],
  ["flow mapping quoted keys", "a: {\"k\": 1, 'j': x y}\n", true],
  ["flow nested", "a: [[x], {b: [c, {d: e}]}]\nf: {g: []}\n", true],
  ["flow collection as a key", "[a]: 1\n", false],
  ["flow comment inside", "a: [x, # y\n  z]\n", false],
  ["nested mapping in compact mapping", "a: b: c\n", false],
  ["key without space", "key:value\n", false],
  ["quoted keys", "\"a\": 1\n'b': 2\n\"c d\" : 3\n", true],
  ["numeric and boolean keys", "1: a\n1.5: b\ntrue: c\n0x10: d\n", true],
  ["keys that collide after resolving", "1: a\n1.0: b\n", false],
  ["trailing spaces", "a: 1   \nb:   \n  - x  \n", true],
  ["CRLF", "a: 1\r\nb: 2\r\n", false],
  ["no final newline", "a: 1\nb: [x]", true],
  ["unicode", "naïve: “quoted” ✓\nemoji: 🎉\n'ключ': значение\n", true],
  ["leading document marker", "# c\n---\na: 1\n", true],
  ["document marker with comment", "--- # c\na: 1\n", true],
  ["two documents", "a: 1\n---\nb: 2\n", false],
  ["document end", "a: 1\n...\n", false],
  ["directive", "%YAML 1.2\n---\na: 1\n", false],
  ["anchor and alias", "a: &x 1\nb: *x\n", false],
  ["tag", "a: !!str 1\n", false],
  ["explicit key", "? a\n: 1\n", false],
  ["merge key", "<<: {a: 1}\n", false],
  ["forbidden keys", "__proto__: 1\n", false],
  ["duplicate keys", "a: 1\na: 2\n", false],
  ["empty file", "", false],
  ["only comments", "# nothing\n", false],
  ["top-level list", "- a\n", false],
  ["top-level scalar", "hello\n", false],
  ["tab indentation", "a:\n\tb: 1\n", false],
  ["tab in value", "a: x\ty\n", false],
  ["BOM", "\uFEFFa: 1\n", false],
  ["multi-line plain", "a: one\n  two\n", false],
  ["multi-line quoted", "a: 'one\n  two'\n", false],
  ["sequence at the key's indentation", "a:\n- x\n- y\nb: 1\n", true],
  ["sequence at the key's indentation in a compact mapping", "l:\n- k:\n  - x\n  j: 2\n", true],
  ["quoted key in a compact mapping", "l:\n  - 'a b': 1\n    \"c\"  : 2\n", true],
  ["spaces before the colon", "a   : 1\nb : [x]\n", true],
  ["compact maps in sequences", "tasks:\n  - id: a\n    needs: [b]\n  -   id: c\n      x: 1\n", true],
  ["nested sequences", "a:\n  -\n    - x\n  - - y\n", false],
  ["bad indentation", "a:\n  b: 1\n c: 2\n", false],
  ["more-indented sibling", "a: 1\n  b: 2\n", false],
  ["comment lines anywhere", "a:\n# c\n  b: 1\n    # d\n  c: 2\n#e\n", true],
  ["reserved start", "a: @x\nb: `y`\n", false],
  ["percent start", "a: %x\n", false],
  ["long key", `${"k".repeat(1100)}: 1\n`, false],
  ["colon in plain scalar", "a: b:c\nurl: http://x:80/\n", true],
  ["plain scalar ending in a colon", "a: b:\n", false],
];

describe("the YAML fast path", () => {
  it("gives exactly what yaml gives for every YAML file in the repo, and reads the shipped ones itself", () => {
    expect(REPO_FILES.length).toBeGreaterThan(5);
    const declined = REPO_FILES.filter((file) => !check(file.text)).map((file) => file.name);
    // Pipelines, packs and settings orc ships are what users copy: the fast path must be the one that reads them.
    expect(declined.filter((name) => /^(pipelines|rules|examples)\/|^orchestrator\.yaml$/.test(name))).toEqual([]);
  });

  it("resolves plain scalars as yaml's core schema does, as keys and as values", () => {
    const words = ["", "~", "null", "Null", "NULL", "nULL", "true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "yes", "no", "on", "off",
      "0", "-0", "+0", "007", "-12", "+12", "1_000", "0o17", "0o8", "-0o17", "0x1F", "0xg", "-0x1F", "0b101", "9007199254740993",
      ".inf", "-.inf", "+.Inf", "-.INF", ".nan", ".NaN", ".NAN", "-.nan", "nan", "inf", "1.5", "-1.5", ".5", "5.", "+.5", "1e3",
      "1E-3", "-1.5e+3", ".5e3", "5.e3", "e3", "1e", "1.2.3", "1,000", "0.0", "-0.0", "12abc", "t0", "v1.2", "2026-11-24", "12:30"];
    for (const word of words) {
      const asValue = (parse(`k: ${word}\n`) as { k: unknown }).k;
      expect(Object.is(resolveCoreScalar(word), asValue) || (Number.isNaN(asValue) && Number.isNaN(resolveCoreScalar(word))), `value ${JSON.stringify(word)}`).toBe(true);
      if (word === "") continue;
      const asKey = Object.keys(parse(`${word}: v\n`) as object)[0];
      const key = resolveCoreScalar(word);
      expect(typeof key === "string" || typeof key === "number" || typeof key === "boolean" ? String(key) : "", `key ${JSON.stringify(word)}`).toBe(asKey);
    }
  });

  it("accepts the bench's 1,000-task pipeline, counting the 32,054 tokens yaml's lexer makes of it", () => {
    expect(check(BENCH)).toBe(true);
    expect(parseFastYaml(BENCH, MAX_TOKENS, MAX_DEPTH)?.tokens).toBe(32_054);
  });

  it.each(EDGES)("%s", (_name, text, accepted) => {
    expect(check(text)).toBe(accepted);
  });

  it("declines past MAX_TOKENS, so that the full path reports too-complex", () => {
    const big = dagPipeline(1600);
    expect(parseFastYaml(big, Number.POSITIVE_INFINITY, MAX_DEPTH)?.tokens).toBeGreaterThan(MAX_TOKENS);
    expect(parseFastYaml(big, MAX_TOKENS, MAX_DEPTH)).toBeUndefined();
    expect(parseYaml("big.yaml", big).out.list().map((d) => d.code)).toEqual(["too-complex"]);
  });

  it("declines nesting deeper than MAX_DEPTH, so that the full path reports too-deep", () => {
    const nest = (levels: number): string => Array.from({ length: levels }, (_, i) => `${" ".repeat(i)}k:`).join("\n") + " 1\n";
    expect(check(nest(MAX_DEPTH))).toBe(true);
    expect(parseFastYaml(nest(MAX_DEPTH + 1), MAX_TOKENS, MAX_DEPTH)).toBeUndefined();
    expect(parseYaml("deep.yaml", nest(MAX_DEPTH + 1)).out.list().map((d) => d.code)).toEqual(["too-deep"]);
  });

  it("places diagnostics by YAML path exactly as the full path does when the fast path read the file", () => {
    const text = "a: 1\nlist:\n  - x\n  - key: |\n      text\n    other: [p, q]\n";
    const fast = parseYaml("p.yaml", text);
    const full = parseYamlFully("p.yaml", text);
    expect(fast.value).toEqual({ a: 1, list: ["x", { key: "text\n", other: ["p", "q"] }] });
    const paths = [["a"], ["list"], ["list", 0], ["list", 1], ["list", 1, "key"], ["list", 1, "other", 1], ["list", 1, "missing"], ["nope"]];
    for (const path of paths) {
      for (const part of ["key", "value"] as const) expect(fast.out.locator.span(path, part)).toEqual(full.out.locator.span(path, part));
    }
    fast.out.error("test", "here", ["list", 1, "key"]);
    expect(fast.out.list()).toEqual([expect.objectContaining({ line: 4, col: 10, length: 1 })]);
  });

  it(`agrees with yaml on ${String(GENERATED)} documents written by yaml's own stringify, and mutations of them`, () => {
    const random = prng(SEED + 1);
    let accepted = 0;
    for (let n = 0; n < GENERATED; n++) {
      const text = randomText(random);
      if (check(text)) accepted++;
      if (check(mutate(text, random))) accepted++;
    }
    expect(accepted).toBeGreaterThan(GENERATED / 2);
  });

  it(`agrees with yaml on ${String(MUTATIONS)} seeded mutations`, () => {
    const random = prng(SEED);
    const bases = [FUZZ_BASE, ...REPO_FILES.map((file) => file.text), ...EDGES.map(([, text]) => text), BENCH.slice(0, 2000)];
    let accepted = 0;
    for (let n = 0; n < MUTATIONS; n++) {
      let text = bases[Math.floor(random() * bases.length)] ?? "";
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) text = mutate(text, random);
      if (check(text)) accepted++;
    }
    // Many mutations keep the text clean; if almost none are accepted, the fast path has stopped doing its job.
    expect(accepted).toBeGreaterThan(MUTATIONS / 10);
  });
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const WORDS = ["id", "a", "needs", "x y", "1", "0x1F", "-1.5", ".inf", "true", "null", "~", "", " lead", "trail ", "a: b", "a #b", "#c", "- d", "it's", 'say "hi"', "tab\there", "line\nbreak", "two\n\nlines\n", "ü ✓", "[x]", "{y}", "*z", "&w", "!v", "%u", "@t", "`s", "|", ">", "---", "...", "?", ":", "-", "yes", "0o17", "007", "1e3", "-0", "1_0"];

/** A random document: a mapping of random keys to random values, nested a few levels. */
function randomData(random: () => number, depth = 0): Json {
  const pick = (): string => WORDS[Math.floor(random() * WORDS.length)] ?? "";
  const kind = Math.floor(random() * (depth === 0 ? 1 : depth > 3 ? 4 : 6));
  if (kind === 0 || kind === 4) {
    const map: Record<string, Json> = {};
    for (let n = Math.floor(random() * 5) + (depth === 0 ? 1 : 0); n > 0; n--) map[pick() || "k"] = randomData(random, depth + 1);
    return map;
  }
  if (kind === 5) return Array.from({ length: Math.floor(random() * 4) }, () => randomData(random, depth + 1));
  if (kind === 1) return [0, -1, 2.5, 1e21, -0, null, true, false][Math.floor(random() * 8)] ?? null;
  return pick();
}

const STRING_TYPES = ["PLAIN", "QUOTE_SINGLE", "QUOTE_DOUBLE", "BLOCK_LITERAL", "BLOCK_FOLDED"] as const;

/** The same data written the many ways yaml can write it. */
function randomText(random: () => number): string {
  return stringify(randomData(random), {
    indent: 2 + Math.floor(random() * 3),
    indentSeq: random() < 0.5,
    defaultStringType: STRING_TYPES[Math.floor(random() * STRING_TYPES.length)] ?? "PLAIN",
    defaultKeyType: random() < 0.8 ? null : "QUOTE_DOUBLE",
    collectionStyle: random() < 0.7 ? "any" : random() < 0.5 ? "block" : "flow",
    flowCollectionPadding: random() < 0.5,
    lineWidth: random() < 0.3 ? 20 : 80,
    minContentWidth: 0,
  });
}


const PIECES = [" ", "  ", "\t", ":", ": ", "'", '"', "#", " #", "-", "- ", "[", "]", "{", "}", ",", "&a", "*a", "!", "|", ">", "|-", ">+", "\n", "\n\n", "\n  ", "\n- ", "~", "0x1", "1e3", ".inf", "---", "...", "?", "\\", "@", "%", "é", "\r\n", "x: y", "true", "null", "0o7"];

/** One character-level edit of `text` at a seeded position: insert a piece, delete a span, or duplicate a line. */
function mutate(text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1));
  const kind = random();
  if (kind < 0.55) return text.slice(0, at) + (PIECES[Math.floor(random() * PIECES.length)] ?? "") + text.slice(at);
  if (kind < 0.85) return text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 3));
  const start = text.lastIndexOf("\n", at - 1) + 1;
  const end = text.indexOf("\n", at);
  const line = text.slice(start, end === -1 ? text.length : end + 1);
  return text.slice(0, start) + line + line + text.slice(start + line.length);
}
