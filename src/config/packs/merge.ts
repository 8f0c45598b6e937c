/**
 * What the packs in `uses:` add to a pipeline, by the precedence of docs/rules.md: packs in `uses:` order
 * (orchestrator.yaml's first), a later pack's rule, gate or template replacing an earlier one's of the same name; the
 * pipeline's own breakpoints and gates replacing any pack's; `disable_rules:` removing rules last.
 */
import { BUILTIN_RULES } from "../../core/builtin-rules.js";
import type { BreakpointSpec, GateSpec, RuleSpec, TemplateSource } from "../../core/pipeline.js";
import { didYouMean, q } from "../describe.js";
import type { Ref, Scope } from "../scope.js";
import type { LoadedRulePack } from "./read.js";

/** The pipeline's gates with the packs' added under it; `own` are the pipeline's own gates. */
export function mergePackGates(own: Readonly<Record<string, GateSpec>>, packs: readonly LoadedRulePack[]): Record<string, GateSpec> {
  const merged: Record<string, GateSpec> = {};
  for (const pack of packs) Object.assign(merged, pack.gates);
  return { ...merged, ...own };
}

/** Every pack template by name, a later pack's winning. */
export function packTemplates(packs: readonly LoadedRulePack[]): Map<string, TemplateSource> {
  const known = new Map<string, TemplateSource>();
  for (const pack of packs) for (const [name, template] of Object.entries(pack.templates)) known.set(name, template);
  return known;
}

/**
 * The rules in effect but the built-in ones (added when a run evaluates them). `disable` names rules by id or by
 * `pack/id`; a name no pack has is an error, unless some pack could not be read (`complete` false).
 */
export function mergeRules(packs: readonly LoadedRulePack[], breakpoints: readonly BreakpointSpec[], disable: readonly Ref[], scope: Scope, complete: boolean): RuleSpec[] {
  const byId = new Map<string, RuleSpec>();
  const packOf = new Map<string, string>();
  for (const pack of packs) {
    for (const rule of pack.rules) {
      byId.delete(rule.id); // a later pack's rule replaces the earlier one and takes its place at the end
      byId.set(rule.id, rule);
      packOf.set(rule.id, pack.name);
    }
  }
  for (const bp of breakpoints) {
    byId.delete(bp.id);
    byId.set(bp.id, { id: bp.id, when: bp.when, action: bp.action, ...(bp.message === undefined ? {} : { message: bp.message }), hook: bp.hook ?? "after_attempt", source: "pipeline" });
  }
  const known = [...byId.keys(), ...BUILTIN_RULES.map((r) => r.id)];
  for (const { name, path } of disable) {
    const slash = name.lastIndexOf("/");
    const id = slash === -1 ? name : name.slice(slash + 1);
    const pack = slash === -1 ? undefined : name.slice(0, slash);
    if (byId.has(id) && (pack === undefined || packOf.get(id) === pack)) {
      byId.delete(id);
    } else if (complete && !BUILTIN_RULES.some((r) => r.id === id)) {
      const hint = scope.out.full ? "" : didYouMean(id, known);
      scope.out.error("unknown-rule", `disable_rules names ${q(name)}, but no pack in uses: has that rule${hint}`, path);
    }
  }
  return [...byId.values()];
}
