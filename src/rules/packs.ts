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
 * Packs' gates and templates join the pipeline's by the same order (src/rules/pack-gates.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { locatePackage as locateConfigPackage, readRulePack, useKind, type LoadedRulePack } from "../config/index.js";
import type { Diagnostic } from "../core/diagnostic.js";
import type { Failure } from "../core/failure.js";
import type { PackInfo, Pipeline, RuleSpec, Settings } from "../core/pipeline.js";
import { err, ok, type Result } from "../core/result.js";
import { BUILTIN_RULES } from "./builtin.js";
import { applyPackGates } from "./pack-gates.js";

/** Runs git with `args` in `cwd`; resolves to stdout, rejects with a readable message. */
export type GitRunner = (args: readonly string[], cwd: string) => Promise<string>;

interface Located {
  readonly file: string;
  readonly info: Omit<PackInfo, "name" | "version" | "file">;
}

export { SHIPPED_RULES_DIR, shippedPack } from "../config/index.js";

function locatePackage(name: string, settings: Settings, pipeline: Pipeline): Result<Located, string> {
  const located = locateConfigPackage(name, [settings.root, dirname(pipeline.file)]);
  return located.ok ? ok({ file: located.value.file, info: { source: name, kind: located.value.kind } }) : located;
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
/** Files beside a git pack copied out with it (templates, rubrics); a pack repository is small. */
const MAX_PACK_FILES = 200;

async function locateGit(entry: string, settings: Settings, git: GitRunner): Promise<Result<Located, string>> {
  const { url, ref, path } = parseGitUse(entry);
  if (ref.startsWith("-") || url.startsWith("-")) return err(`git pack ${entry}: a URL or ref may not start with "-"`);
  if (path.split("/").includes("..")) return err(`git pack ${entry}: the path may not leave the repository`);
  // Loaded here, not with the module: node:crypto costs ~3 ms, and most runs fetch no git pack.
  const { createHash } = await import("node:crypto");
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
  const checkout = join(cache, "checkout", commit);
  const file = join(checkout, ...path.split("/"));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  // The files beside the pack (its templates, judge rubrics) come too: the pack names them relative to itself.
  const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  try {
    const beside = (await git(["ls-tree", "-r", "--name-only", commit, "--", folder], cache)).split("\n").filter((f) => f !== "" && f !== path);
    for (const other of beside.slice(0, MAX_PACK_FILES)) {
      const target = join(checkout, ...other.split("/"));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, await git(["show", `${commit}:${other}`], cache));
    }
  } catch (error) {
    // git itself failed here: say so rather than go on with a pack whose templates are half copied.
    return err(`git pack ${entry}: could not copy the files beside ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return ok({ file, info: { source: entry, kind: "git", commit } });
}

export interface ResolvedRules {
  readonly rules: readonly RuleSpec[];
  readonly packs: readonly PackInfo[];
  /** The pipeline's gates with every pack's added, and its tasks with `pack:NAME` templates read from the packs. */
  readonly pipeline: Pick<Pipeline, "gates" | "tasks">;
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
  const gates = applyPackGates(pipeline, loaded);
  if (!gates.ok) return err({ reason: "usage", message: gates.failure });
  return ok({ rules: rules.value, packs: infos, pipeline: gates.value, diagnostics });
}
