/**
 * How YAML 1.2's core schema reads a plain (unquoted) scalar, exactly as the `yaml` package's default schema does
 * (yaml/dist/schema/core/{int,float,bool}.js and common/null.js, tried in that order: null, bool, octal, decimal and
 * hex integers, .inf/.nan, exponent floats, plain floats; anything else is a string). Kept here so that the fast path
 * (yaml-fast.ts) resolves scalars without loading the yaml library at all. tests/config-yaml-fast.test.ts holds this
 * table to yaml's own tags, scalar by scalar.
 */
const RULES: readonly (readonly [RegExp, (source: string) => unknown])[] = [
  [/^(?:~|[Nn]ull|NULL)?$/, () => null],
  [/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === "t" || s[0] === "T"],
  [/^0o[0-7]+$/, (s) => parseInt(s.slice(2), 8)],
  [/^[-+]?[0-9]+$/, (s) => parseInt(s, 10)],
  [/^0x[0-9a-fA-F]+$/, (s) => parseInt(s.slice(2), 16)],
  [/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (s) => (s.slice(-3).toLowerCase() === "nan" ? Number.NaN : s.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY)],
  [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)],
  [/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)],
];

/** Where any rule matches: one native match settles the common case, a word that is simply a string. */
const ANY = new RegExp(RULES.map(([test]) => `(?:${test.source})`).join("|"));

/** The value of a plain scalar (a key or a value: the core schema reads both the same way). */
export function resolveCoreScalar(source: string): unknown {
  if (!ANY.test(source)) return source;
  for (const [test, resolve] of RULES) if (test.test(source)) return resolve(source);
  return source;
}
