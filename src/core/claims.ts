/**
 * The agent's final message checked against what happened, at no token cost. An agent's words are evidence, never a
 * verdict: "all tests pass" while a gate failed, "added tests" while no test file changed, a file named as edited that
 * did not change, "done" with nothing changed. Pure: rules (`claims.*`), the judge's prompt and the retry prompt all
 * call it on the same inputs and see the same list. In core/ because all three rooms read it.
 */
import type { FileChange, GateOutcome } from "./events.js";

export type ContradictionKind = "tests-pass" | "tests-added" | "file-changed" | "no-change";

/** A claim the evidence contradicts: what the agent said, and what orc saw instead. */
export interface Contradiction {
  readonly kind: ContradictionKind;
  readonly claim: string;
  readonly evidence: string;
}

export interface ClaimCheck {
  /** Sentences of the message that claim something orc can check. */
  readonly claims: readonly string[];
  readonly contradictions: readonly Contradiction[];
  /** Claims nothing confirms or refutes: "tests pass" with no gate that ran tests. Shown to the judge, not rejected. */
  readonly unverified: readonly string[];
}

/** Paths that are tests by the usual conventions of JS/TS, Python, Go, Ruby, Java and Rust projects. */
const TEST_PATH = /(^|\/)(tests?|__tests__|spec|specs)\/|\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)test_[^/]*\.py$|_test\.(py|go|rb)$|_spec\.rb$|Tests?\.(java|kt|cs)$/;

export function isTestPath(path: string): boolean {
  return TEST_PATH.test(path);
}

// A sentence that denies or hedges is not a claim: "the tests do not pass yet", "I could not add tests".
const NEGATED = /\b(not|no|never|cannot|without|unable|fails?|failing|failed|yet to|still)\b|n't\b/i;
const TESTS_PASS = /\b(tests?|specs?|test suite|checks?)\b[^.!?\n]{0,40}?\b(pass(es|ed|ing)?|succeed(s|ed)?|green|ok)\b|\ball (green|passing)\b/i;
const TESTS_ADDED = /\b(add(ed|s)?|wr(ote|itten|ite)|creat(ed|es)?|new|extend(ed|s)?|cover(ed|s)?)\b[^.!?\n]{0,30}?\b(unit |regression |integration )?tests?\b/i;
const CHANGED = /\b(add(ed)?|chang(ed|es)|modif(ied|ies)|updat(ed|es)|edit(ed|s)|creat(ed|es)|wr(ote|itten)|delet(ed|es)|remov(ed|es)|fix(ed|es)|renam(ed|es)|implement(ed|s)|refactor(ed|s)|touch(ed|es))\b/i;
const DONE = /\b(done|fixed|implemented|completed?|finished|added|wrote|created|updated|resolved)\b/i;
// A path with an extension that starts with a letter ("1.2.3" is a version, not a file).
const PATH = /(?<![\w/:.@-])(?:[\w@.-]+\/)*[\w@-][\w@-]*(?:\.[\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,7}\b/g;
// Names that look like files in prose but are products or abbreviations.
const NOT_A_FILE = /^((node|next|vue|react|express|nuxt|deno|three|d3|chart|moment|angular|ember|backbone|socket\.io)\.js|e\.g|i\.e|etc\.\w+)$/i;

const MAX_MESSAGE = 20_000;
const MAX_ITEMS = 20;

function sentences(message: string): string[] {
  return message
    .slice(-MAX_MESSAGE)
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim().slice(0, 1_000))
    .filter((s) => s !== "");
}

function clip(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 197)}…`;
}

/** The paths a sentence names (backquotes and trailing punctuation dropped). */
export function namedPaths(sentence: string): string[] {
  return [...sentence.matchAll(PATH)].map((m) => m[0]).filter((p) => !NOT_A_FILE.test(p) && !/^\w+\.(com|org|net|io|dev)$/.test(p));
}

function changedAs(files: readonly FileChange[], path: string): FileChange | undefined {
  const clean = path.replace(/^\.\//, "");
  return files.find((f) => f.path === clean || f.path.endsWith(`/${clean}`));
}

/** Where a "tests pass" claim meets the gates: a contradiction, unverified, or confirmed (undefined). */
function testsPassEvidence(gates: readonly GateOutcome[]): { kind: "contradicted" | "unverified"; evidence: string } | undefined {
  const commands = gates.filter((g) => g.kind === "command");
  if (commands.length === 0) return { kind: "unverified", evidence: "no command gate ran" };
  const failing = commands.filter((g) => !g.passed || (g.tests?.failed ?? 0) > 0);
  if (failing.length === 0) return undefined;
  return { kind: "contradicted", evidence: failing.map((g) => `gate ${g.gate} ${g.passed ? "reported" : "failed"}: ${g.summary}`).join("; ") };
}

/**
 * Checks the agent's final message against the change set and the gates that ran. `gates` are the outcomes known
 * when the check is made (a judge sees the gates before it; rules and the retry prompt see them all).
 */
export function checkClaims(message: string, files: readonly FileChange[], gates: readonly GateOutcome[]): ClaimCheck {
  const claims: string[] = [];
  const contradictions: Contradiction[] = [];
  const unverified: string[] = [];
  const seen = new Set<string>();
  const add = (c: Contradiction): void => {
    const key = `${c.kind}:${c.claim}`;
    if (seen.has(key) || contradictions.length >= MAX_ITEMS) return;
    contradictions.push(c);
    seen.add(key);
  };
  const testsChanged = files.filter((f) => isTestPath(f.path) && f.status !== "deleted");
  let claimedDone = "";
  for (const sentence of sentences(message)) {
    if (NEGATED.test(sentence)) continue;
    const claim = clip(sentence);
    let checkable = false;
    if (TESTS_PASS.test(sentence)) {
      checkable = true;
      const found = testsPassEvidence(gates);
      if (found?.kind === "contradicted") add({ kind: "tests-pass", claim, evidence: found.evidence });
      else if (found?.kind === "unverified" && unverified.length < MAX_ITEMS) unverified.push(`${claim} (${found.evidence})`);
    }
    if (TESTS_ADDED.test(sentence)) {
      checkable = true;
      if (testsChanged.length === 0) add({ kind: "tests-added", claim, evidence: files.length === 0 ? "no file changed" : `no test file changed (changed: ${files.map((f) => f.path).slice(0, 10).join(", ")})` });
    }
    if (CHANGED.test(sentence)) {
      for (const path of namedPaths(sentence)) {
        checkable = true;
        if (changedAs(files, path) === undefined) add({ kind: "file-changed", claim, evidence: `${path} did not change` });
      }
    }
    if (claimedDone === "" && DONE.test(sentence)) claimedDone = claim;
    if (checkable && claims.length < MAX_ITEMS) claims.push(claim);
  }
  if (files.length === 0 && claimedDone !== "") add({ kind: "no-change", claim: claimedDone, evidence: "no file changed" });
  return { claims, contradictions, unverified };
}

/** One line per contradiction, as rules, the judge and the retry prompt show it. */
export function describeContradiction(c: Contradiction): string {
  return `"${c.claim}": ${c.evidence}`;
}
