/**
 * Resolves `uses:` to rules, at load time (the result is stored with the run, so `orc resume` never fetches again):
 * - a local file (config/ already made it absolute);
 * - an npm package, from the project's node_modules (walking up from the project root), the file its package.json
 *   names under `"orc": { "pack": "..." }`, else `pack.yaml`;
 * - a git URL, `URL#REF` or `URL#REF:path/in/repo.yaml` (default ref HEAD, default file pack.yaml), fetched into a
 *   bare cache under the state directory; the commit it resolved to is recorded in the run's spec.
 *
 * Precedence (docs/rules.md): packs in `uses:` order (orchestrator.yaml's first); a later pack's rule replaces an
 * earlier one with the same id; a pipeline breakpoint replaces a pack rule with its id; `disable_rules` removes rules.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { readRulePack, useKind, type LoadedRulePack } from "../config/index.js";
import type { Diagnostic } from "../core/diagnostic.js";
import type { Failure } from "../core/failure.js";
import type { PackInfo, Pipeline, RuleSpec, Settings } from "../core/pipeline.js";
import { err, ok, type Result } from "../core/result.js";
import { BUILTIN_RULES } from "./builtin.js";

/** Runs git with `args` in `cwd`; resolves to stdout, rejects with a readable message. */
export type GitRunner = (args: readonly string[], cwd: string) => Promise<string>;

interface Located {
  readonly file: string;
  readonly info: Omit<PackInfo, "name" | "version" | "file">;
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

/** The packs shipped with orc, in `rules/` of its package. */
export const SHIPPED_RULES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "rules");

export function shippedPack(name: string): string | undefined {
  const bare = name.startsWith("orc:") ? name.slice(4) : name;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(bare)) return undefined;
  const file = join(SHIPPED_RULES_DIR, `${bare}.yaml`);
  return existsSync(file) ? file : undefined;
}

function locatePackage(name: string, settings: Settings, pipeline: Pipeline): Result<Located, string> {
  // `orc:NAME` is always a shipped pack; a bare NAME is an npm package when one is installed, else a shipped pack.
  const shipped = shippedPack(name);
  if (name.startsWith("orc:")) return shipped === undefined ? err(`orc ships no rule pack ${name.slice(4)} (it has: test-integrity, safety, budget, stuck)`) : ok({ file: shipped, info: { source: name, kind: "shipped" } });
  const installed = packageDir(name, [settings.root, dirname(pipeline.file)]);
  if (installed === undefined && shipped !== undefined) return ok({ file: shipped, info: { source: name, kind: "shipped" } });
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return err(`${JSON.stringify(name)} is not an npm package name, a path or a git URL`);
  const dir = packageDir(name, [settings.root, dirname(pipeline.file)]);
  if (dir === undefined) return err(`npm package ${name} is not installed (looked for node_modules/${name} from ${settings.root} upwards)`);
  let entry = "pack.yaml";
  try {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { orc?: { pack?: unknown } };
    if (typeof pkg.orc?.pack === "string") entry = pkg.orc.pack;
  } catch {
    return err(`npm package ${name}: package.json is not valid JSON`);
  }
  const file = resolve(dir, entry);
  if (!file.startsWith(dir + sep)) return err(`npm package ${name}: its pack file ${entry} is outside the package`);
  return ok({ file, info: { source: name, kind: "package" } });
}

/** `URL#REF:PATH` split; the URL itself may contain `:` (scheme, scp-like), so only the part after `#` is split. */
export function parseGitUse(entry: string): { url: string; ref: string; path: string } {
  const hash = entry.indexOf("#");
  const url = hash === -1 ? entry : entry.slice(0, hash);
  const rest = hash === -1 ? "" : entry.slice(hash + 1);
  const colon = rest.indexOf(":");
  const ref = (colon === -1 ? rest : rest.slice(0, colon)) || "HEAD";
  const path = (colon === -1 ? "" : rest.slice(colon + 1)) || "pack.yaml";
  return { url, ref, path };
}

const SHA = /^[0-9a-f]{40}$/;

async function locateGit(entry: string, settings: Settings, git: GitRunner): Promise<Result<Located, string>> {
  const { url, ref, path } = parseGitUse(entry);
  if (ref.startsWith("-") || url.startsWith("-")) return err(`git pack ${entry}: a URL or ref may not start with "-"`);
  if (path.split("/").includes("..")) return err(`git pack ${entry}: the path may not leave the repository`);
  const cache = join(settings.stateDir, "packs", "git", createHash("sha256").update(url).digest("hex").slice(0, 16));
  mkdirSync(cache, { recursive: true });
  if (!existsSync(join(cache, "HEAD"))) await git(["init", "--bare", "--quiet", "--template=", cache], cache);
  const cachedRef = `refs/orc-cache/${createHash("sha256").update(ref).digest("hex").slice(0, 16)}`;
  const has = async (rev: string): Promise<string | undefined> => {
    try {
      return (await git(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], cache)).trim();
    } catch {
      return undefined;
    }
  };
  let commit = SHA.test(ref) ? await has(ref) : undefined;
  if (commit === undefined) {
    try {
      await git(["fetch", "--quiet", "--no-tags", url, SHA.test(ref) ? "+refs/*:refs/orc-remote/*" : ref], cache);
      commit = SHA.test(ref) ? await has(ref) : await has("FETCH_HEAD");
      if (commit !== undefined) await git(["update-ref", cachedRef, commit], cache);
    } catch (error) {
      // Offline, or the remote is gone: a ref fetched before still resolves from the cache.
      commit = await has(cachedRef);
      if (commit === undefined) return err(`git pack ${entry}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (commit === undefined) return err(`git pack ${entry}: ref ${ref} not found`);
  let text: string;
  try {
    text = await git(["show", `${commit}:${path}`], cache);
  } catch {
    return err(`git pack ${entry}: ${path} does not exist at ${ref} (${commit.slice(0, 12)})`);
  }
  const file = join(cache, "checkout", commit, ...path.split("/"));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return ok({ file, info: { source: entry, kind: "git", commit } });
}

export interface ResolvedRules {
  readonly rules: readonly RuleSpec[];
  readonly packs: readonly PackInfo[];
  /** Problems in the packs' files (file:line:col), to print like any config diagnostic. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Merges pack rules and the pipeline's breakpoints by the documented precedence. */
export function mergeRules(packs: readonly LoadedRulePack[], pipeline: Pipeline): Result<readonly RuleSpec[], string> {
  const byId = new Map<string, RuleSpec>();
  const packOf = new Map<string, string>();
  for (const pack of packs) {
    for (const rule of pack.rules) {
      byId.delete(rule.id); // a later pack's rule replaces the earlier one and takes its place at the end
      byId.set(rule.id, rule);
      packOf.set(rule.id, pack.name);
    }
  }
  for (const bp of pipeline.breakpoints) {
    byId.delete(bp.id);
    byId.set(bp.id, { id: bp.id, when: bp.when, action: bp.action, ...(bp.message === undefined ? {} : { message: bp.message }), hook: bp.hook ?? "after_attempt", source: "pipeline" });
  }
  for (const name of pipeline.disableRules ?? []) {
    const slash = name.lastIndexOf("/");
    const id = slash === -1 ? name : name.slice(slash + 1);
    const pack = slash === -1 ? undefined : name.slice(0, slash);
    const rule = byId.get(id);
    if (rule === undefined || (pack !== undefined && packOf.get(id) !== pack)) {
      const builtin = BUILTIN_RULES.some((r) => r.id === id);
      if (!builtin) return err(`disable_rules names ${JSON.stringify(name)}, but no pack in uses: has that rule`);
      continue;
    }
    byId.delete(id);
  }
  return ok([...byId.values()]);
}

export async function resolveRules(pipeline: Pipeline, settings: Settings, git: GitRunner): Promise<Result<ResolvedRules, Failure>> {
  const loaded: LoadedRulePack[] = [];
  const infos: PackInfo[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const entry of pipeline.uses ?? []) {
    const kind = useKind(entry);
    const located: Result<Located, string> =
      kind === "local" ? ok({ file: entry, info: { source: entry, kind } }) : kind === "package" ? locatePackage(entry, settings, pipeline) : await locateGit(entry, settings, git);
    if (!located.ok) return err({ reason: "usage", message: located.failure });
    const read = readRulePack(located.value.file);
    diagnostics.push(...read.diagnostics);
    if (read.pack === undefined) continue;
    loaded.push(read.pack);
    infos.push({ ...located.value.info, name: read.pack.name, version: read.pack.version, file: located.value.file });
  }
  if (diagnostics.some((d) => d.severity === "error")) return err({ reason: "config", diagnostics });
  const rules = mergeRules(loaded, pipeline);
  if (!rules.ok) return err({ reason: "usage", message: rules.failure });
  return ok({ rules: rules.value, packs: infos, diagnostics });
}
