import { dirname } from "node:path";
import type { Diagnostic } from "../core/diagnostic.js";
import { q } from "./describe.js";
import { buildGates } from "./gates.js";
import type { Scope } from "./scope.js";
import { checkShape } from "./shape.js";
import { readTemplate } from "./templates.js";
import type { YamlFile } from "./yaml-file.js";

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
  buildGates(value.gates, scope);
  for (const [name, file] of Object.entries(value.templates ?? {})) {
    readTemplate(file, ["templates", name], `template ${q(name)}: file`, scope);
  }
  return out.list();
}
