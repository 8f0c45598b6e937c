/**
 * Gates and templates that rule packs offer to the pipelines using them. Precedence (docs/rules.md), the same order
 * as rules: packs in `uses:` order (orchestrator.yaml's first), a later pack's gate or template replacing an earlier
 * one's of the same name, and the pipeline's own gate replacing any pack's.
 */
import type { GateSpec, TemplateSource } from "../core/pipeline.js";
import { locatePack } from "./pack-locate.js";
import { readRulePack, type LoadedRulePack } from "./rule-pack.js";

export interface VisiblePacks {
  readonly packs: readonly LoadedRulePack[];
  /** false when some pack could not be read here (a git pack, fetched when the run starts, or a broken one). */
  readonly complete: boolean;
}

/** Reads the packs config/ can reach synchronously (local, shipped, npm); their own problems are reported elsewhere. */
export function visiblePacks(uses: readonly string[], from: readonly string[]): VisiblePacks {
  const packs: LoadedRulePack[] = [];
  let complete = true;
  for (const entry of uses) {
    const located = locatePack(entry, from);
    const pack = located?.ok === true ? readRulePack(located.value.file).pack : undefined;
    if (pack === undefined) complete = false;
    else packs.push(pack);
  }
  return { packs, complete };
}

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
