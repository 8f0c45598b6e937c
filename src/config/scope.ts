import type { TemplateSource } from "../core/pipeline.js";
import type { Path } from "./describe.js";
import type { Diagnostics } from "./diagnostics.js";

/** What the normalising passes over one file share: where to report, the raw data (for labels), where paths resolve. */
export interface Scope {
  readonly out: Diagnostics;
  readonly root: unknown;
  /** Directories a relative path in the file resolves against, in order of preference. */
  readonly dirs: readonly string[];
  /** Templates the rule packs in `uses:` offer as `pack:NAME`; `complete` false when some pack (git) is not read yet. */
  readonly packTemplates?: { readonly known: ReadonlyMap<string, TemplateSource>; readonly complete: boolean };
}

/** A string the user wrote and where: list shorthands (`needs: design`) expand to one entry pointing at the scalar. */
export interface Ref {
  readonly name: string;
  readonly path: Path;
}

/** Expands `x` to `[x]`, keeping each entry's path. */
export function refs(value: string | readonly string[] | undefined, path: Path): Ref[] {
  if (value === undefined) return [];
  if (typeof value === "string") return [{ name: value, path }];
  return value.map((name, i) => ({ name, path: [...path, i] }));
}
