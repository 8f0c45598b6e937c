import { join } from "node:path";
import { REPO, type Rig } from "./rig.js";

export const RULES_AGENT = join(REPO, "tests", "fixtures", "rules", "agent.mjs");

export interface Attempt {
  attempt: number;
  status: string;
  decision?: string;
  reasons: string[];
  prompt: string;
}
export interface Breakpoint {
  id: string;
  run: string;
  task: string;
  attempt: number;
  rule: string;
  status: string;
  message: string;
  resolution?: string;
  note?: string;
  context: { source: string; hook: string; reasons: string[]; files: number; linesChanged: number; changedFiles: string[]; gates: { gate: string; passed: boolean; summary: string }[] };
}
export interface Status {
  run: { id: string; status: string; reason?: string };
  tasks: { id: string; status: string; reason?: string; attempts: Attempt[] }[];
  breakpoints: Breakpoint[];
}
export interface LoggedEvent {
  type: string;
  rule?: string;
  action?: string;
  spec?: { pipeline: { packs?: { name: string; kind: string; commit?: string; source: string }[]; rules?: { id: string; source: string }[] } };
}

/** A workspace with one bug (add subtracts) and node:test tests that catch it. */
export function writeCalcWorkspace(rig: Rig, dir = "ws"): void {
  rig.write(`${dir}/src/calc.mjs`, "export function add(a, b) {\n  return a - b;\n}\n\nexport function mul(a, b) {\n  return a * b;\n}\n");
  rig.write(
    `${dir}/tests/calc.test.mjs`,
    `import { test } from "node:test";
import assert from "node:assert/strict";
import { add, mul } from "../src/calc.mjs";

test("add", () => {
  assert.equal(add(2, 3), 5);
});

test("mul", () => {
  assert.equal(mul(2, 3), 6);
});
`,
  );
}

/** The pipeline every rules test runs: the four shipped packs, the tests as a gate, tests/ protected. */
export function guardedPipeline(extra = "", uses = "[orc:test-integrity, orc:safety, orc:stuck, orc:budget]"): string {
  return `version: 1
name: guarded
transport: local
uses: ${uses}
agent: { kind: command, run: node ${JSON.stringify(RULES_AGENT)} }
gates:
  tests: { run: node --test tests/, timeout: 60s }
tasks:
  - id: fix
    prompt: Make the tests pass by fixing src/calc.mjs.
    gates: [tests]
    protect: ["tests/**"]
${extra}`;
}
