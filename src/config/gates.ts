import type { GateSpec } from "../core/pipeline.js";
import { q, type Path } from "./describe.js";
import { durationMs } from "./duration-field.js";
import type { RawGate, RawGates } from "./schema/fragments.js";
import type { Scope } from "./scope.js";
import { readTemplate, shippedTemplate } from "./templates.js";

export const DEFAULT_GATE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_JUDGE_THRESHOLD = 0.7;

/** Normalises `gates:` (`tests: "npm test"` is short for `tests: {run: "npm test"}`), reporting what cannot run. */
export function buildGates(raw: RawGates | undefined, scope: Scope): Record<string, GateSpec> {
  const gates: Record<string, GateSpec> = {};
  for (const [id, gate] of Object.entries(raw ?? {})) {
    const spec = buildGate(id, gate, ["gates", id], scope);
    if (spec !== undefined) gates[id] = spec;
  }
  return gates;
}

function buildGate(id: string, raw: RawGate, path: Path, scope: Scope): GateSpec | undefined {
  if (typeof raw === "string") return { kind: "command", id, run: raw, timeoutMs: DEFAULT_GATE_TIMEOUT_MS };
  const name = `gate ${q(id)}`;
  const timeoutMs = durationMs(raw.timeout, [...path, "timeout"], scope) ?? DEFAULT_GATE_TIMEOUT_MS;
  if (raw.judge !== undefined) {
    if (raw.run !== undefined) {
      scope.out.error("gate-shape", `${name} has both run and judge: a gate is either a command or a judge`, [...path, "judge"], "key");
    }
    if (raw.report !== undefined) {
      scope.out.error("gate-shape", `${name}: report applies only to command gates`, [...path, "report"], "key");
    }
    const { rubric: file, threshold } = raw.judge;
    // The default rubric is inlined too, so a stored run resumes with the rubric it started with.
    const rubric = file === undefined ? shippedTemplate("judge.liquid") : readTemplate(file, [...path, "judge", "rubric"], `${name}: rubric file`, scope);
    return { kind: "judge", id, threshold: threshold ?? DEFAULT_JUDGE_THRESHOLD, timeoutMs, ...(rubric === undefined ? {} : { rubric }) };
  }
  if (raw.run === undefined) {
    scope.out.error("gate-shape", `${name} needs run (a command line) or judge`, path);
    return undefined;
  }
  return { kind: "command", id, run: raw.run, timeoutMs, ...(raw.report === undefined ? {} : { report: raw.report }) };
}
