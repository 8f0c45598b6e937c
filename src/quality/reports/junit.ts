/**
 * JUnit XML counts. Accepts `<testsuites>` (any number of suites) or a bare `<testsuite>` root, suites nested in
 * suites (as pytest, Jest and Maven write them), and counts `<testcase>` elements wherever they sit:
 * `<failure>` or `<error>` → failed, else `<skipped>` → skipped, else passed.
 * When a report lists no test cases at all but its suites carry `tests`/`failures`/`errors`/`skipped` attributes,
 * the top-level suites' attributes are used instead.
 * Entity expansion is off: a report is untrusted input and `<!ENTITY>` tricks must not blow up memory.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { TestCounts } from "../../core/events.js";

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === "testsuite" || name === "testcase" || name === "testsuites",
});

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Element children of `node` named `name` (an empty element such as `<testcase/>` parses as "", kept as {}). */
function children(node: Node, name: string): Node[] {
  const value = node[name];
  const list = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  return list.map((v) => (isNode(v) ? v : {}));
}

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

function countCases(suite: Node, tally: Tally): void {
  for (const testcase of children(suite, "testcase")) {
    if ("failure" in testcase || "error" in testcase) tally.failed++;
    else if ("skipped" in testcase) tally.skipped++;
    else tally.passed++;
  }
  for (const nested of children(suite, "testsuite")) countCases(nested, tally);
}

function attr(node: Node, name: string): number {
  const n = Number(node[`@_${name}`] ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function countFromAttributes(suites: readonly Node[]): Tally | undefined {
  if (!suites.some((s) => `@_tests` in s)) return undefined;
  const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
  for (const s of suites) {
    const failed = attr(s, "failures") + attr(s, "errors");
    const skipped = attr(s, "skipped") + attr(s, "disabled");
    tally.failed += failed;
    tally.skipped += skipped;
    tally.passed += Math.max(0, attr(s, "tests") - failed - skipped);
  }
  return tally;
}

/** Counts of a JUnit XML document, or undefined when it is not well-formed XML or has no test suites. */
export function parseJunit(text: string): TestCounts | undefined {
  // The parser alone is lenient: it would count half of a truncated report (a runner killed mid-write).
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- its replacement (fast-xml-validator) is not a dependency
  if (XMLValidator.validate(text) !== true) return undefined;
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch {
    return undefined;
  }
  if (!isNode(doc)) return undefined;

  // The top-level suites: every <testsuite> under <testsuites>, or the root <testsuite> itself.
  const roots = [...children(doc, "testsuites").flatMap((root) => children(root, "testsuite")), ...children(doc, "testsuite")];
  if (roots.length === 0 && !("testsuites" in doc)) return undefined;

  const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
  for (const suite of roots) countCases(suite, tally);
  const counted = tally.passed + tally.failed + tally.skipped;
  const result = counted > 0 ? tally : (countFromAttributes(roots) ?? tally);
  return { ...result, total: result.passed + result.failed + result.skipped };
}
