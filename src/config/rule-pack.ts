import { dirname } from "node:path";
import type { Diagnostic } from "../core/diagnostic.js";
import { q } from "./describe.js";
import { buildGates } from "./gates.js";
import type { Scope } from "./scope.js";
import { checkWhen } from "./conditions.js";
import { checkShape } from "./shape.js";
import { readTemplate } from "./templates.js";
import type { RuleSpec } from "../core/pipeline.js";
import type { RawRulePack } from "./schema/rule-pack.js";
import { readYamlFile, type YamlFile } from "./yaml-file.js";

/** Checks a rule pack: its shape, unique rule ids, its gates, and that the templates it names exist. */
export function analyseRulePack(parsed: YamlFile): Diagnostic[] {
  const { out, value } = parsed;
  if (value === undefined || !checkShape("rule-pack", value, out)) return out.list();
  const scope: Scope = { out, root: value, dirs: [dirname(parsed.file)] };
  const first = new Map<string, number>();
  for (const [index, rule] of value.rules.entries()) {
    const seen = first.get(rule.id);
    if (seen === undefined) {
      first.set(rule.id, index);
      continue;
    }
    const line = out.locator.span(["rules", seen, "id"]).line;
    out.error("duplicate-rule", `duplicate rule id ${q(rule.id)} (first defined on line ${line})`, ["rules", index, "id"]);
  }
  value.rules.forEach((rule, index) => {
    checkWhen(rule.when, ["rules", index, "when"], out, parsed.text);
  });
  buildGates(value.gates, scope);
  for (const [name, file] of Object.entries(value.templates ?? {})) {
    readTemplate(file, ["templates", name], `template ${q(name)}: file`, scope);
  }
  // Say so rather than ignore them silently: a pack's gates and templates are checked, not yet used by a run.
  if (value.gates !== undefined) out.warning("pack-gates-unused", "this version of orc checks a pack's gates but does not add them to pipelines yet", ["gates"], "key");
  if (value.templates !== undefined) {
    out.warning("pack-templates-unused", "this version of orc checks a pack's templates but does not offer them to pipelines yet", ["templates"], "key");
  }
  return out.list();
}

/** A rule pack read and checked, its rules normalised (hook defaulted, source = the pack's name). */
export interface LoadedRulePack {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly rules: readonly RuleSpec[];
}

/** Reads and checks the pack in `file` (absolute); `pack` is undefined when it has errors. */
export function readRulePack(file: string): { readonly pack: LoadedRulePack | undefined; readonly diagnostics: Diagnostic[]; readonly text: string | undefined } {
  const parsed = readYamlFile(file);
  const diagnostics = analyseRulePack(parsed);
  const value = parsed.value as RawRulePack | undefined;
  if (value === undefined || diagnostics.some((d) => d.severity === "error")) return { pack: undefined, diagnostics, text: parsed.text };
  const rules = value.rules.map(
    (r): RuleSpec => ({
      id: r.id,
      when: r.when,
      action: r.action,
      ...(r.message === undefined ? {} : { message: r.message }),
      hook: r.hook ?? "after_attempt",
      source: value.name,
    }),
  );
  return { pack: { file, name: value.name, version: String(value.version), rules }, diagnostics, text: parsed.text };
}
