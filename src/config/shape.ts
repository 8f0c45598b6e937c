/**
 * Pass 2: the ajv shape check against the one schema source, each error turned into a diagnostic at the YAML node it
 * is about. Unions (`needs: a` or `needs: [a]`) report the branch the user evidently meant, not every branch's error.
 */
import type { ErrorObject } from "ajv";
import { closest, describePath, describeTypes, describeValue, didYouMean, fieldText, prefix, q, subject, valueAt, type Path } from "./describe.js";
import type { Diagnostics } from "./diagnostics.js";
import { PATTERN_HINTS, type SchemaName } from "./schema/constants.js";
import type { RawOrchestrator } from "./schema/orchestrator.js";
import type { RawPipeline } from "./schema/pipeline.js";
import type { RawRulePack } from "./schema/rule-pack.js";
import { validatorFor } from "./validators.js";

interface RawTypes {
  orchestrator: RawOrchestrator;
  pipeline: RawPipeline;
  "rule-pack": RawRulePack;
}

/** True when `value` has the shape of schema `name`; otherwise each problem is reported to `out`. */
export function checkShape<N extends SchemaName>(name: N, value: unknown, out: Diagnostics): value is RawTypes[N] {
  const validate = validatorFor(name);
  if (validate(value)) return true;
  const seen = new Set<string>();
  for (const problem of select(validate.errors ?? [])) {
    const path = toPath(problem.instancePath, value);
    const d = explain(problem, path, value);
    const key = `${d.code}\u0000${JSON.stringify(d.path)}\u0000${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.error(d.code, d.message, d.path, d.part);
  }
  return false;
}

/** A synthetic error for a union none of whose branches has the value's type. */
interface UnionMismatch {
  readonly instancePath: string;
  readonly types: readonly string[];
}

type Problem = ErrorObject | UnionMismatch;

const within = (e: ErrorObject, union: ErrorObject): boolean =>
  e.schemaPath.startsWith(`${union.schemaPath}/`) &&
  (e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`));

/**
 * ajv reports a failed `anyOf` as the errors of every branch followed by the `anyOf` error itself, so each union's
 * errors are the run just before it (one linear pass, whatever the number of errors). Keep the branch that got
 * furthest into the value (deepest error; a branch whose only error is the value's own type got nowhere); when no
 * branch got anywhere, one "must be a string or a list" error instead.
 */
function select(errors: readonly ErrorObject[]): Problem[] {
  const picked: Problem[][] = [];
  for (let i = errors.length - 1; i >= 0; ) {
    const union = errors[i];
    if (union === undefined) break;
    if (union.keyword !== "anyOf") {
      picked.push([union]);
      i--;
      continue;
    }
    let start = i;
    while (start > 0 && within(errors[start - 1] as ErrorObject, union)) start--;
    picked.push(resolveUnion(union, errors.slice(start, i)));
    i = start - 1;
  }
  return picked.reverse().flat();
}

function resolveUnion(union: ErrorObject, errors: readonly ErrorObject[]): Problem[] {
  const branches = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const branch = e.schemaPath.slice(union.schemaPath.length + 1).split("/")[0] ?? "";
    branches.set(branch, [...(branches.get(branch) ?? []), e]);
  }
  let best: ErrorObject[] = [];
  let bestScore = -1;
  for (const branch of branches.values()) {
    const score = progress(branch, union.instancePath);
    if (score > bestScore || (score === bestScore && branch.length < best.length)) {
      best = branch;
      bestScore = score;
    }
  }
  if (bestScore > 0) return select(best);
  const types = errors.flatMap((e) => (e.keyword === "type" ? [e.params.type as string | string[]].flat() : []));
  return [{ instancePath: union.instancePath, types }];
}

/** 0 when the branch failed on the value's own type; else 1 + the depth of its deepest error. */
function progress(branch: readonly ErrorObject[], at: string): number {
  if (branch.every((e) => e.keyword === "type" && e.instancePath === at)) return 0;
  const depths = branch.map((e) => {
    const depth = e.instancePath === "" ? 0 : e.instancePath.split("/").length - 1;
    return depth + (e.keyword === "additionalProperties" || e.keyword === "required" ? 1 : 0);
  });
  return 1 + Math.max(...depths);
}

/** A JSON pointer as a path, list indexes as numbers (decided by the data, so a key "0" stays a string). */
function toPath(pointer: string, root: unknown): Path {
  if (pointer === "") return [];
  const path: (string | number)[] = [];
  let value = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    const segment = Array.isArray(value) ? Number(key) : key;
    path.push(segment);
    value = valueAt(value, [segment]);
  }
  return path;
}

interface Explained {
  readonly code: string;
  readonly message: string;
  readonly path: Path;
  readonly part: "key" | "value";
}

function explain(problem: Problem, path: Path, root: unknown): Explained {
  const { label, rest } = subject(root, path);
  const value = valueAt(root, path);
  // What the message is about: `task "x": needs`, or `task #2` when the task itself is wrong.
  const field = describePath(root, path) || "the file";
  const at = (code: string, message: string): Explained => ({ code, message, path, part: "value" });
  if ("types" in problem) {
    return at("wrong-type", `${field} must be ${describeTypes(problem.types)}, found ${describeValue(value)}`);
  }
  const params = problem.params as Record<string, unknown>;
  const where = rest.length === 0 ? "" : ` in ${fieldText(rest)}`;
  switch (problem.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(schemaProperties(problem.parentSchema));
      const hint = didYouMean(key, allowed) || (allowed.length > 0 ? `; expected one of: ${allowed.join(", ")}` : "");
      return { code: "unknown-key", message: `${prefix(label)}unknown key ${q(key)}${where}${hint}`, path: [...path, key], part: "key" };
    }
    case "required":
      return at("missing-key", `${prefix(label)}missing required key ${q(String(params.missingProperty))}${where}`);
    case "type":
      return at("wrong-type", `${field} must be ${describeTypes([params.type as string | string[]].flat())}, found ${describeValue(value)}`);
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const guess = typeof value === "string" ? closest(value, allowed) : undefined;
      const found = `found ${typeof value === "string" ? q(value) : describeValue(value)}${guess === undefined ? "" : `; did you mean ${q(guess)}?`}`;
      return at("invalid-value", `${field} must be one of: ${allowed.join(", ")} (${found})`);
    }
    case "minimum":
    case "exclusiveMinimum":
      return at("out-of-range", `${field} must be ${problem.keyword === "minimum" ? "at least" : "more than"} ${String(params.limit)} (found ${String(value)})`);
    case "maximum":
    case "exclusiveMaximum":
      return at("out-of-range", `${field} must be ${problem.keyword === "maximum" ? "at most" : "less than"} ${String(params.limit)} (found ${String(value)})`);
    case "minItems":
    case "minLength":
      return at("invalid-value", `${field} must not be empty`);
    case "pattern": {
      const pattern = String(params.pattern);
      const hint = Object.hasOwn(PATTERN_HINTS, pattern) ? PATTERN_HINTS[pattern] : undefined;
      return at("invalid-value", `${field} ${hint ?? `must match ${pattern}`} (found ${typeof value === "string" ? q(value) : describeValue(value)})`);
    }
    default:
      return at("schema", `${field} ${problem.message ?? "is not valid"}`);
  }
}

function schemaProperties(schema: unknown): Record<string, unknown> {
  const properties = (schema as { properties?: unknown } | undefined)?.properties;
  return typeof properties === "object" && properties !== null ? (properties as Record<string, unknown>) : {};
}
