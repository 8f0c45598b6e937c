/** Wording shared by shape and semantic diagnostics: quoting user text, naming the entity a path is in, did-you-mean. */
import { createRequire } from "node:module";
import type * as Levenshtein from "fastest-levenshtein";

const { distance } = createRequire(import.meta.url)("fastest-levenshtein") as typeof Levenshtein;

/** A position in the parsed YAML: map keys and list indexes from the document root. */
export type Path = readonly (string | number)[];

const MAX_QUOTED = 60;

/** User text in a message: JSON-quoted (control characters escaped) and cut short. */
export function q(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text);
}

export function valueAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** `a string ("x")`, `a number (5)`, `a list`, `a mapping`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return `a string (${q(value)})`;
    case "number":
      return `a number (${String(value)})`;
    case "boolean":
      return String(value);
    case "object":
      return "a mapping";
    default:
      return `a ${typeof value}`;
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean",
  array: "a list",
  object: "a mapping",
  null: "nothing",
};

/** JSON Schema type names as a phrase: `a string or a list`. */
export function describeTypes(types: readonly string[]): string {
  const names = [...new Set(types.map((t) => TYPE_NAMES[t] ?? t))];
  return names.length <= 1 ? (names[0] ?? "something else") : `${names.slice(0, -1).join(", ")} or ${names.at(-1) ?? ""}`;
}

const LISTED: Readonly<Record<string, string>> = { tasks: "task", breakpoints: "breakpoint", rules: "rule" };
const KEYED: Readonly<Record<string, string>> = { gates: "gate", templates: "template" };

/** The entity a path points into (`task "design"`, `gate "tests"`) and the field path inside it. */
export function subject(root: unknown, path: Path): { readonly label: string; readonly rest: Path } {
  const [head, key] = path;
  if (typeof head === "string" && key !== undefined) {
    const keyed = Object.hasOwn(KEYED, head) ? KEYED[head] : undefined;
    if (keyed !== undefined) return { label: `${keyed} ${q(String(key))}`, rest: path.slice(2) };
    const listed = Object.hasOwn(LISTED, head) ? LISTED[head] : undefined;
    if (listed !== undefined && typeof key === "number") {
      const id = valueAt(root, [head, key, "id"]);
      const label = typeof id === "string" && id !== "" ? `${listed} ${q(id)}` : `${listed} #${key + 1}`;
      return { label, rest: path.slice(2) };
    }
  }
  return { label: "", rest: path };
}

/** `agent.timeout`, `needs[0]`. */
export function fieldText(path: Path): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? key : `.${key}`)).join("");
}

/** `task "x": agent.timeout`, `task "x"` for the entity itself, `concurrency` at the top level. */
export function describePath(root: unknown, path: Path): string {
  const { label, rest } = subject(root, path);
  return rest.length === 0 ? label : `${prefix(label)}${fieldText(rest)}`;
}

/** `task "x": ` or nothing at the top level. */
export function prefix(label: string): string {
  return label === "" ? "" : `${label}: `;
}

const MAX_CANDIDATES = 5000;
const MAX_NAME = 100;

/** The candidate a typo most likely meant, if one is close enough to suggest. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME) return undefined;
  const limit = name.length <= 3 ? 1 : name.length <= 6 ? 2 : 3;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let seen = 0;
  for (const candidate of candidates) {
    if (++seen > MAX_CANDIDATES) break;
    if (candidate === name || candidate.length > MAX_NAME) continue;
    const d = candidate.toLowerCase() === lower ? 0 : distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** ` (did you mean "design"?)` or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const match = closest(name, candidates);
  return match === undefined ? "" : ` (did you mean ${q(match)}?)`;
}
