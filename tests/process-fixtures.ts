/** Fixtures shared by the process-layer tests (supervisor, command agent, command gate, reports). */

/** A node:test file covering every shape Node's TAP reporter writes: suites, nested suites, subtests, a failing hook. */
export const NODE_TEST_FILE = `
import { test, describe, it, before } from "node:test";
import assert from "node:assert";
test("adds", () => assert.equal(1 + 1, 2));
test("fails", () => assert.equal(1, 2, "line one\\nnot ok 99 - not a test point"));
test("skipped", { skip: true }, () => {});
test("todo", { todo: true }, () => { throw new Error("expected"); });
describe("suite", () => {
  it("inner ok", () => {});
  it("inner fail", () => { throw new Error("bad"); });
  describe("deeper", () => { it("deep ok", () => {}); });
});
test("parent", async (t) => { await t.test("child1", () => {}); await t.test("child2", () => {}); });
describe("hook fails", () => { before(() => { throw new Error("hook"); }); it("never runs", () => {}); });
`;
/**
 * Leaves: adds, inner ok, deep ok, child1, child2 passed; fails, inner fail, never runs (cancelled) failed;
 * skipped and todo skipped. Parents (suite, deeper, parent, hook fails) are not counted.
 */
export const NODE_TEST_COUNTS = { passed: 5, failed: 3, skipped: 2, total: 10 };
