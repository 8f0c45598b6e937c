import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { readRulePack, readYamlFile, shippedPack } from "../config/index.js";
import type { Diagnostic } from "../core/diagnostic.js";
import { usage, type Failure } from "../core/failure.js";
import { EXPECTATIONS, describeMismatch, runCase, type Expectation, type FixtureCase } from "../rules/fixtures.js";
import type { GlobalOptions } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail as failWith, type Io } from "./io.js";

/** PACK is a file, or the name of a shipped pack (`test-integrity`, `orc:test-integrity`). */
function packFile(pack: string, cwd: string): string {
  const local = resolve(cwd, pack);
  if (existsSync(local)) return local;
  return shippedPack(pack) ?? local;
}

/** `rules/x.yaml` → `rules/x.test.yaml`. */
export function fixturesFileFor(pack: string): string {
  return pack.replace(/\.ya?ml$/i, "") + ".test.yaml";
}

function readCases(file: string): { cases: FixtureCase[]; diagnostics: Diagnostic[] } {
  const parsed = readYamlFile(file);
  const { out, value } = parsed;
  const cases: FixtureCase[] = [];
  if (value === undefined) return { cases, diagnostics: out.list() };
  const raw = value.cases;
  if (!Array.isArray(raw) || raw.length === 0) {
    out.error("bad-fixtures", "expected `cases:`, a list of {name, input, context, expect}", ["cases"]);
    return { cases, diagnostics: out.list() };
  }
  raw.forEach((item: unknown, i) => {
    const c = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const expect = c.expect;
    if (typeof c.name !== "string") out.error("bad-fixtures", "each case needs a `name`", ["cases", i]);
    if (typeof expect !== "string" || !(EXPECTATIONS as readonly string[]).includes(expect)) {
      out.error("bad-fixtures", `\`expect\` must be one of ${EXPECTATIONS.join(", ")}`, ["cases", i, "expect"]);
      return;
    }
    const rules = c.rules;
    if (rules !== undefined && !(Array.isArray(rules) && rules.every((r) => typeof r === "string"))) {
      out.error("bad-fixtures", "`rules` must be a list of rule ids", ["cases", i, "rules"]);
      return;
    }
    const obj = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
    cases.push({
      name: typeof c.name === "string" ? c.name : `case ${i + 1}`,
      line: out.locator.span(["cases", i]).line,
      input: obj(c.input),
      context: obj(c.context),
      expect: expect as Expectation,
      ...(rules === undefined ? {} : { rules }),
    });
  });
  return { cases, diagnostics: out.list() };
}

/** `orc rules test PACK [--fixtures FILE]`: 0 when every case reaches its expected decision, 1 otherwise. */
export function rulesTestCommand(pack: string, options: GlobalOptions & { readonly json: boolean; readonly fixtures?: string }, io: Io): number {
  const fail = (failure: Failure): number => failWith(io, failure, options);
  const file = packFile(pack, io.cwd);
  if (!existsSync(file)) return fail(usage(`rule pack ${pack} not found (a file, or one of the packs shipped with orc)`));
  const loaded = readRulePack(file);
  if (loaded.pack === undefined) return fail({ reason: "config", diagnostics: loaded.diagnostics });
  const fixtures = options.fixtures !== undefined ? resolve(io.cwd, options.fixtures) : fixturesFileFor(file);
  if (!existsSync(fixtures)) return fail(usage(`no fixtures for ${pack}: expected ${fixtures} (or pass --fixtures FILE)`));
  const { cases, diagnostics } = readCases(fixtures);
  if (diagnostics.some((d) => d.severity === "error")) return fail({ reason: "config", diagnostics });

  const results = cases.map((c) => runCase(loaded.pack?.rules ?? [], c));
  const failed = results.filter((r) => !r.pass);
  if (options.json) {
    const json = results.map((r) => ({ name: r.case.name, line: r.case.line, pass: r.pass, expect: r.case.expect, actual: r.actual, rules: r.fired.map((f) => f.rule.id) }));
    io.stdout.write(`${JSON.stringify({ pack: loaded.pack.name, version: loaded.pack.version, fixtures, passed: results.length - failed.length, failed: failed.length, cases: json })}\n`);
  } else {
    io.stdout.write(`pack ${loaded.pack.name} ${loaded.pack.version}: ${fixtures}\n`);
    for (const r of results) {
      io.stdout.write(`${r.pass ? "  ✓" : "  ✗"} ${r.case.name}${r.pass ? "" : ` (line ${r.case.line})`}\n`);
      if (!r.pass) for (const line of describeMismatch(r)) io.stdout.write(`      ${line}\n`);
    }
    io.stdout.write(`${results.length - failed.length} passed, ${failed.length} failed\n`);
  }
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}
