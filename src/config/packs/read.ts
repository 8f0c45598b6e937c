/** Reads a rule pack file: its shape, unique rule ids, conditions, gates, and the templates it names. */
import { dirname } from "node:path";
import type { Diagnostic } from "../../core/diagnostic.js";
import type { GateSpec, RuleSpec, TemplateSource } from "../../core/pipeline.js";
import { checkWhen } from "../conditions.js";
import { q } from "../describe.js";
import { buildGates } from "../gates.js";
import type { RawRulePack } from "../schema/rule-pack.js";
import type { Scope } from "../scope.js";
import { checkShape } from "../shape.js";
import { readTemplate } from "../templates.js";
import { readYamlFile, type YamlFile } from "../yaml-file.js";

interface CheckedPack {
  readonly diagnostics: Diagnostic[];
  /** Normalised like a pipeline's gates (a judge rubric read in, relative to the pack file). */
  readonly gates: Record<string, GateSpec>;
  readonly templates: Record<string, TemplateSource>;
}

function checkRulePack(parsed: YamlFile): CheckedPack {
  const { out, value } = parsed;
  if (value === undefined || !checkShape("rule-pack", value, out)) return { diagnostics: out.list(), gates: {}, templates: {} };
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
  const templates: Record<string, TemplateSource> = {};
  for (const [name, file] of Object.entries(value.templates ?? {})) {
    const template = readTemplate(file, ["templates", name], `template ${q(name)}: file`, scope);
    if (template !== undefined) templates[name] = template;
  }
  // A pack's own judge gates may name their rubric as `pack:NAME`, from this pack's templates.
  const gates = buildGates(value.gates, { ...scope, packTemplates: { known: new Map(Object.entries(templates)), complete: true } });
  return { diagnostics: out.list(), gates, templates };
}

/** A rule pack read and checked, its rules normalised (hook defaulted, source = the pack's name). */
export interface LoadedRulePack {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly rules: readonly RuleSpec[];
  /** The pack's gates (each marked with `pack`: the pack's name), for pipelines that use the pack. */
  readonly gates: Readonly<Record<string, GateSpec>>;
  /** The pack's named templates, which a pipeline names as `pack:NAME`. */
  readonly templates: Readonly<Record<string, TemplateSource>>;
  /** Paths every task that uses the pack protects (globs, or FILE#SECTION). */
  readonly protect: readonly string[];
}

/** Reads and checks the pack in `file` (absolute); `pack` is undefined when it has errors. */
export function readRulePack(file: string): { readonly pack: LoadedRulePack | undefined; readonly diagnostics: Diagnostic[]; readonly text: string | undefined } {
  return rulePackFrom(readYamlFile(file));
}

/** The same, for a pack file already parsed. */
export function rulePackFrom(parsed: YamlFile): { readonly pack: LoadedRulePack | undefined; readonly diagnostics: Diagnostic[]; readonly text: string | undefined } {
  const { diagnostics, gates, templates } = checkRulePack(parsed);
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
  const marked = Object.fromEntries(Object.entries(gates).map(([id, gate]) => [id, { ...gate, pack: value.name }]));
  return { pack: { file: parsed.file, name: value.name, version: String(value.version), rules, gates: marked, templates, protect: value.protect === undefined ? [] : typeof value.protect === "string" ? [value.protect] : value.protect }, diagnostics, text: parsed.text };
}

/**
 * The packs one command has read, each file once: `orc validate` of several pipelines that use the same pack reports
 * its problems once. Diagnostics and file texts are collected for printing.
 */
export class PackReads {
  readonly diagnostics: Diagnostic[] = [];
  readonly sources = new Map<string, string>();
  private readonly packs = new Map<string, LoadedRulePack | undefined>();

  /** The pack in `file` (absolute; `parsed` when already read), or undefined when it has errors. */
  read(file: string, parsed?: YamlFile): LoadedRulePack | undefined {
    if (this.packs.has(file)) return this.packs.get(file);
    const { pack, diagnostics, text } = parsed === undefined ? readRulePack(file) : rulePackFrom(parsed);
    this.packs.set(file, pack);
    this.diagnostics.push(...diagnostics);
    if (text !== undefined) this.sources.set(file, text);
    return pack;
  }
}
