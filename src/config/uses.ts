/**
 * `uses:` names rule packs three ways: a local file, an npm package, or a git URL. Local ones are resolved to absolute
 * paths here (and checked by `orc validate`); package names and URLs pass through for the rules room to fetch.
 */
import { existsSync } from "node:fs";
import type { Diagnostic } from "../core/diagnostic.js";
import { q } from "./describe.js";
import { analyseRulePack } from "./rule-pack.js";
import { refs, type Scope } from "./scope.js";
import type { RawStringList } from "./schema/fragments.js";
import { resolveFile } from "./templates.js";
import { readYamlFile } from "./yaml-file.js";

export type UseKind = "local" | "package" | "git";

/** `./x`, `../x`, `/x` and `*.yaml` are files; `git@...`, `scheme://...` and `*.git` are git; anything else npm. */
export function useKind(entry: string): UseKind {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || entry.startsWith("git@") || entry.endsWith(".git")) return "git";
  if (/^\.{0,2}\//.test(entry) || /\.ya?ml$/i.test(entry)) return "local";
  return "package";
}

export interface PackResults {
  readonly diagnostics: Diagnostic[];
  readonly sources: Map<string, string>;
  /** Packs already checked (by absolute path), so a pack two pipelines use is reported once. */
  readonly checked: Set<string>;
}

/** The entries with local ones made absolute; with `packs`, each local pack is also read and checked. */
export function resolveUses(raw: RawStringList | undefined, scope: Scope, packs?: PackResults): string[] {
  const resolved: string[] = [];
  for (const { name, path } of refs(raw, ["uses"])) {
    if (useKind(name) !== "local") {
      resolved.push(name);
      continue;
    }
    const file = resolveFile(name, scope.dirs);
    resolved.push(file);
    if (packs === undefined) continue;
    if (!existsSync(file)) {
      scope.out.error("missing-pack", `rule pack ${q(name)} not found`, path);
    } else if (!packs.checked.has(file)) {
      packs.checked.add(file);
      const pack = readYamlFile(file);
      if (pack.text !== undefined) packs.sources.set(file, pack.text);
      packs.diagnostics.push(...analyseRulePack(pack));
    }
  }
  return [...new Set(resolved)];
}
