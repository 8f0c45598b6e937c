/**
 * Where a pack that is not a git URL lives on disk: a pack shipped in orc's `rules/` (`orc:NAME`, or a bare NAME no
 * npm package shadows), or an npm package in the project's node_modules (the file its package.json names under
 * `"orc": { "pack": "..." }`, else `pack.yaml`). Local entries are already absolute paths (uses.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { err, ok, type Result } from "../../core/result.js";
import { SHIPPED_RULES_DIR } from "../shipped.js";

export interface LocatedPack {
  readonly file: string;
  readonly kind: "shipped" | "package";
}

export function shippedPack(name: string): string | undefined {
  const bare = name.startsWith("orc:") ? name.slice(4) : name;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(bare)) return undefined;
  const file = join(SHIPPED_RULES_DIR, `${bare}.yaml`);
  return existsSync(file) ? file : undefined;
}

function packageDir(name: string, from: readonly string[]): string | undefined {
  for (const start of from) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", ...name.split("/"));
      if (existsSync(join(candidate, "package.json"))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** An npm or shipped pack's file; `from` are the directories node_modules is looked for from (walking up). */
export function locatePackage(name: string, from: readonly string[]): Result<LocatedPack, string> {
  // `orc:NAME` is always a shipped pack; a bare NAME is an npm package when one is installed, else a shipped pack.
  const shipped = shippedPack(name);
  if (name.startsWith("orc:")) return shipped === undefined ? err(`orc ships no rule pack ${name.slice(4)} (it has: test-integrity, safety, budget, stuck)`) : ok({ file: shipped, kind: "shipped" });
  const dir = packageDir(name, from);
  if (dir === undefined && shipped !== undefined) return ok({ file: shipped, kind: "shipped" });
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return err(`${JSON.stringify(name)} is not an npm package name, a path or a git URL`);
  if (dir === undefined) return err(`npm package ${name} is not installed (looked for node_modules/${name} from ${from[0] ?? "."} upwards)`);
  let entry = "pack.yaml";
  try {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { orc?: { pack?: unknown } };
    if (typeof pkg.orc?.pack === "string") entry = pkg.orc.pack;
  } catch {
    return err(`npm package ${name}: package.json is not valid JSON`);
  }
  const file = resolve(dir, entry);
  if (!file.startsWith(dir + sep)) return err(`npm package ${name}: its pack file ${entry} is outside the package`);
  return ok({ file, kind: "package" });
}
