/**
 * `when:` conditions: CEL (Common Expression Language), a safe, non-Turing-complete expression language, through a
 * maintained library (@marcbachmann/cel-js; never `eval`). Both config/ (syntax errors become diagnostics at the
 * expression's file:line:col) and rules/ (evaluation over an attempt's context) use this one wrapper.
 */
import { createRequire } from "node:module";

type CelLibrary = typeof import("@marcbachmann/cel-js");

/**
 * The library costs ~20 ms of module start-up, so it is loaded on first need, not with orc: `orc validate` of a
 * pipeline without conditions never loads it, nor does a run whose attempts give its rules nothing to evaluate. A
 * run awaits loadExpressionLanguage() before it evaluates a rule (rules/attempt-rules.ts).
 */
let library: CelLibrary | undefined;
let loading: Promise<CelLibrary> | undefined;

export function loadExpressionLanguage(): Promise<void> {
  loading ??= import("@marcbachmann/cel-js").then((loaded) => (library = loaded));
  return loading.then(() => undefined);
}

/** Synchronous callers (config/ checking a `when:`) load it here: Node >= 20.19 requires an ES module in one step. */
function cel(): CelLibrary {
  library ??= createRequire(import.meta.url)("@marcbachmann/cel-js") as CelLibrary;
  return library;
}

/** A problem in an expression, with its offset (0-based, in UTF-16 units) inside the expression's text. */
export interface ExpressionProblem {
  readonly message: string;
  readonly offset: number;
}

export type Compiled =
  | { readonly ok: true; readonly evaluate: (context: Readonly<Record<string, unknown>>) => EvaluationResult }
  | { readonly ok: false; readonly problem: ExpressionProblem };

export type EvaluationResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: ExpressionProblem };

/** Past this length a condition is refused: CEL stays cheap, but a megabyte of it is a mistake or an attack. */
export const MAX_EXPRESSION_CHARS = 4_000;

/** The library's message is multi-line (it draws the excerpt itself); the first line is the sentence. */
function problemOf(error: unknown): ExpressionProblem {
  if (!(error instanceof Error)) return { message: String(error), offset: 0 };
  const located = error as Error & { node?: { pos?: unknown }; range?: { start?: unknown } };
  const offset = typeof located.range?.start === "number" ? located.range.start : typeof located.node?.pos === "number" ? located.node.pos : 0;
  const message = (error.message.split("\n")[0] ?? error.message).trim();
  return { message, offset };
}

/** CEL integers are BigInt; rule contexts and results are plain JSON numbers. */
export function normaliseValue(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(normaliseValue);
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), normaliseValue(v)]));
  return value;
}

export function compileExpression(source: string): Compiled {
  if (source.length > MAX_EXPRESSION_CHARS) {
    return { ok: false, problem: { message: `the condition is longer than ${MAX_EXPRESSION_CHARS} characters`, offset: 0 } };
  }
  if (source.trim() === "") return { ok: false, problem: { message: "the condition is empty", offset: 0 } };
  const { parse } = cel();
  let program: (context: Record<string, unknown>) => unknown;
  try {
    program = parse(source);
  } catch (error) {
    return { ok: false, problem: problemOf(error) };
  }
  return {
    ok: true,
    evaluate: (context) => {
      try {
        return { ok: true, value: normaliseValue(program({ ...context })) };
      } catch (error) {
        return { ok: false, problem: problemOf(error) };
      }
    },
  };
}

/** Evaluates a compiled condition that must yield a boolean; anything else is a problem. */
export function evaluateCondition(compiled: Compiled, context: Readonly<Record<string, unknown>>): { ok: true; value: boolean } | { ok: false; problem: ExpressionProblem } {
  if (!compiled.ok) return compiled;
  const result = compiled.evaluate(context);
  if (!result.ok) return result;
  if (typeof result.value !== "boolean") {
    return { ok: false, problem: { message: `the condition must be true or false, found ${typeof result.value === "string" ? JSON.stringify(result.value) : String(result.value)}`, offset: 0 } };
  }
  return { ok: true, value: result.value };
}

/** The top-level names a rule's context has (src/rules/context.ts builds them; docs/rules.md describes them). */
export const RULE_CONTEXT_ROOTS = [
  "hook",
  "task",
  "attempt",
  "decision",
  "reasons",
  "agent",
  "changes",
  "protected",
  "gates",
  "gates_failed",
  "tests",
  "verdict",
  "cost",
  "time",
  "history",
  "baseline",
  "signals",
] as const;

/**
 * A condition's problems that need no attempt to find: syntax errors, and names that are not in the rule context
 * (a typo such as `chnages.count`). Evaluated once against empty values, so only "Unknown variable" errors count here;
 * type errors depend on real data and are reported when the rule runs.
 */
export function checkCondition(source: string): ExpressionProblem | undefined {
  const compiled = compileExpression(source);
  if (!compiled.ok) return compiled.problem;
  const empty: Record<string, unknown> = {};
  for (const root of RULE_CONTEXT_ROOTS) empty[root] = {};
  const result = compiled.evaluate(empty);
  if (!result.ok && result.problem.message.startsWith("Unknown variable")) {
    const known = RULE_CONTEXT_ROOTS.join(", ");
    return { message: `${result.problem.message} (a condition can read: ${known})`, offset: result.problem.offset };
  }
  return undefined;
}
