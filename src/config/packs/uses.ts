/**
 * `uses:` names rule packs as a local file, a shipped pack or an npm package, or a git URL (docs/rules.md). Each entry
 * keeps where it was written, so that a pack that cannot be found or fetched is reported there.
 */
import { dirname } from "node:path";
import type { Settings } from "../../core/pipeline.js";
import type { Path } from "../describe.js";
import type { RawStringList } from "../schema/fragments.js";
import { refs, type Scope } from "../scope.js";
import { resolveFile } from "../templates.js";
import { readYamlFile } from "../yaml-file.js";
import type { PackReads } from "./read.js";

export type UseKind = "local" | "package" | "git";

/** `./x`, `../x`, `/x` and `*.yaml` are files; `git@...`, `scheme://...` and `*.git` are git; anything else npm. */
export function useKind(entry: string): UseKind {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || entry.startsWith("git@") || entry.endsWith(".git")) return "git";
  if (/^\.{0,2}\//.test(entry) || /\.ya?ml$/i.test(entry)) return "local";
  return "package";
}

/** A `uses:` entry, local ones made absolute. */
export interface UseEntry {
  readonly entry: string;
  /** As written, for messages. */
  readonly written: string;
  /** Reports a problem with the entry's pack at the entry. */
  readonly report: (code: string, message: string) => void;
}

const absolute = (name: string, dirs: readonly string[]): string => (useKind(name) === "local" ? resolveFile(name, dirs) : name);

/** The entries of a file's `uses:`, reported through the file's own diagnostics. */
export function useEntries(raw: RawStringList | undefined, scope: Scope): UseEntry[] {
  return refs(raw, ["uses"]).map(({ name, path }) => ({
    entry: absolute(name, scope.dirs),
    written: name,
    report: (code, message) => {
      scope.out.error(code, message, path);
    },
  }));
}

/** The entries with local ones made absolute, each once (orchestrator.yaml's, which Settings keeps as strings). */
export function resolveUses(raw: RawStringList | undefined, scope: Scope): string[] {
  return [...new Set(useEntries(raw, scope).map((u) => u.entry))];
}

/**
 * orchestrator.yaml's entries, as Settings has them: a problem with one of their packs is found while a pipeline loads,
 * so the settings file is read again (only then) to point at the entry.
 */
export function settingsEntries(settings: Pick<Settings, "file" | "uses">, reads: PackReads): UseEntry[] {
  const settingsFile = settings.file;
  return settings.uses.map((entry) => ({
    entry,
    written: entry,
    report: (code, message) => {
      if (settingsFile === undefined) return;
      const parsed = readYamlFile(settingsFile);
      const raw = parsed.value?.uses as RawStringList | undefined;
      const path: Path = refs(raw, ["uses"]).find((r) => absolute(r.name, [dirname(settingsFile)]) === entry)?.path ?? [];
      reads.diagnostics.push({ file: settingsFile, ...parsed.out.locator.span(path), severity: "error", code, message });
      if (parsed.text !== undefined) reads.sources.set(settingsFile, parsed.text);
    },
  }));
}
