import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SCHEMA_NAMES, type SchemaName } from "../src/config/schema/constants.js";
import { schemaData, schemaText } from "../src/config/schema-file.js";
import { AJV_OPTIONS, PRECOMPILED_DIR, type Precompiled } from "../src/config/validators.js";
import { prng } from "./helpers/prng.js";

/**
 * `npm run build` precompiles the schema validators (bin/build-validators.js) and the built orc uses them; tests that
 * import src/ compile the schemas at run time instead. Both must give the same verdict and the same errors (which the
 * diagnostics are made from) on every input: valid files, broken ones, and seeded mutations like the fuzz test's.
 */
const built = (name: SchemaName): string => fileURLToPath(new URL(`../dist/config/${PRECOMPILED_DIR}${name}.cjs`, import.meta.url));
const load = (name: SchemaName): Precompiled => createRequire(import.meta.url)(built(name)) as Precompiled;
const MUTATIONS = 400;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const VALID: Record<SchemaName, Json[]> = {
  orchestrator: [
    {},
    { version: 1, agent: "command", concurrency: 4, max_attempts: 2, state: ".orc", uses: "./rules/a.yaml", llm: { model: "x" } },
    { agent: { kind: "command", run: "./agent.sh", timeout: "30m", env: { A: "1", B: 2, C: true } }, state: { dir: "state" } },
  ],
  pipeline: [
    { tasks: [{ id: "a" }] },
    {
      version: 1,
      name: "full",
      uses: ["./rules/a.yaml"],
      agent: { kind: "command", run: "./agent.sh", timeout: "30m", inactivity_timeout: 60, options: { any: [1] } },
      defaults: { max_attempts: 2, gates: ["tests"], priority: 1 },
      concurrency: 2,
      gates: {
        tests: { run: "npm test", timeout: "10m", report: { format: "junit", path: "out.xml" } },
        lint: "npm run lint",
        judge: { judge: { rubric: "r.liquid", threshold: 0.5 } },
      },
      tasks: [
        { id: "design", prompt: "Write it." },
        { id: "impl", needs: ["design"], template: "t.liquid", gates: "tests", protect: ["tests/**"], priority: -1, max_attempts: 1, agent: "command" },
      ],
      breakpoints: [{ id: "big", when: "changes.lines_changed > 800", action: "pause", message: "look" }],
      retry_template: "retry.liquid",
    },
  ],
  "rule-pack": [
    { name: "p", version: "1.0.0", rules: [] },
    { name: "p", version: 2, rules: [{ id: "r", when: "true", action: "warn", message: "m" }], gates: { t: "true" }, templates: { a: "a.liquid" } },
  ],
};

/** Broken on purpose: every kind of error shape.ts explains, unions and nesting included. */
const INVALID: Record<SchemaName, Json[]> = {
  orchestrator: [
    [],
    "text",
    { version: "1", concurrency: 0, max_attempts: 1.5, agent: { kind: 1, timeout: -1, env: { A: [] } }, state: { dir: 1, x: 1 } },
    { uses: [1], llm: 3, nope: true, agent: 7 },
  ],
  pipeline: [
    {},
    { tasks: [] },
    { tasks: [{ id: "-bad", needs: [1], gates: {}, protect: 3, agent: { kind: "command", x: 1 } }], concurrency: "2" },
    { tasks: [{ prompt: "no id", nedds: "a" }], gates: { t: { run: 1, report: { format: "xml" }, judge: { threshold: 2 } } } },
    { name: "", tasks: "a", breakpoints: [{ id: "b", when: 1, action: "stop" }], defaults: { gates: [null] } },
    { tasks: [{ id: "a", agent: { timeout: "10m", inactivity_timeout: [] } }], retry_template: false, uses: { a: 1 } },
  ],
  "rule-pack": [
    { rules: [] },
    { name: "p", version: true, rules: [{ id: "r" }, { id: "s", when: "x", action: "pause", extra: 1 }] },
    { name: "p", version: "1", rules: {}, templates: { a: 1 }, gates: { g: 2 } },
  ],
};

/** The fuzz test's mutations of the data: delete, replace or add a key or item anywhere. */
function mutate(root: Json, random: () => number): Json {
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const values: Json[] = ["design", "", "10m", "pause", "comand", "-x", 0, -1, 2.5, 1e9, true, null, [], {}, ["a", 1], { k: "v" }];
  const keys = ["id", "prompt", "needs", "gates", "run", "judge", "kind", "timeout", "nedds", "x", "max_attempts", "rules", "state"];
  const copy = structuredClone(root);
  const containers: (Json[] | { [key: string]: Json })[] = [];
  const stack: Json[] = [copy];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null) continue;
    containers.push(node);
    stack.push(...Object.values(node));
  }
  if (containers.length === 0) return copy;
  for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
    const target = pick(containers);
    const present = Object.keys(target);
    const choice = Math.floor(random() * 3);
    if (choice === 0 && present.length > 0) {
      const key = pick(present);
      if (Array.isArray(target)) target.splice(Number(key), 1);
      else Reflect.deleteProperty(target, key);
    } else if (choice === 1 && present.length > 0) {
      (target as Record<string, Json>)[pick(present)] = pick(values);
    } else if (Array.isArray(target)) {
      target.push(pick(values));
    } else {
      target[pick(keys)] = pick(values);
    }
  }
  return copy;
}


function outcome(validate: ValidateFunction, document: unknown): { valid: boolean; errors: unknown } {
  const valid = validate(document);
  return { valid, errors: validate.errors ?? null };
}

describe("config: precompiled validators", () => {
  it("the build wrote them, from the schema files as they are now (run `npm run build`)", () => {
    for (const name of SCHEMA_NAMES) {
      expect(existsSync(built(name)), `${built(name)} missing`).toBe(true);
      expect(load(name).source, name).toBe(schemaText(name));
    }
  });

  it("agree with validators compiled at run time on valid, invalid and mutated documents", () => {
    const ajv = new Ajv(AJV_OPTIONS);
    const random = prng(0x0a1b_2c3d);
    let invalid = 0;
    for (const name of SCHEMA_NAMES) {
      const precompiled = load(name).validate;
      const compiled = ajv.compile(schemaData(name));
      const documents: unknown[] = [...VALID[name], ...INVALID[name]];
      for (const base of VALID[name]) for (let i = 0; i < MUTATIONS / VALID[name].length; i++) documents.push(mutate(base, random));
      // Through YAML too, as orc reads them: shorthands, numbers and nulls as yaml makes them.
      documents.push(parse("version: 1\ntasks:\n  - id: a\n    needs: b\n    gates: tests\n    agent: command\n"), parse("tasks:\n  - id:\n"));
      for (const [i, document] of documents.entries()) {
        const expected = outcome(compiled, document);
        if (!expected.valid) invalid++;
        expect(outcome(precompiled, document), `${name} #${i}: ${JSON.stringify(document)}`).toEqual(expected);
      }
      for (const document of VALID[name]) expect(compiled(document), `${name}: ${JSON.stringify(document)}`).toBe(true);
      for (const document of INVALID[name]) expect(compiled(document), `${name}: ${JSON.stringify(document)}`).toBe(false);
    }
    expect(invalid).toBeGreaterThan(MUTATIONS); // the mutations do break documents
  });
});
