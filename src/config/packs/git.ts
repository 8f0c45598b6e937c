/**
 * git packs: `URL#REF:PATH` (default ref HEAD, default file pack.yaml), fetched with a git the caller provides (the CLI
 * runs it through the process supervisor, isolated from the user's git configuration). Only `orc apply` fetches: the
 * commit is recorded in the run's spec, so `orc resume` never fetches again.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { err, ok, type Result } from "../../core/result.js";

/** Runs git with `args` in `cwd`; resolves to stdout, rejects with a readable message. */
export type GitRunner = (args: readonly string[], cwd: string) => Promise<string>;

export interface FetchedPack {
  /** The pack file, copied out of the cache at `commit`. */
  readonly file: string;
  readonly commit: string;
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

/**
 * Fetches the pack a git `uses:` entry names into a bare cache under the state directory (one per URL; a ref fetched
 * once is kept under refs/orc-cache/, so it still resolves when the remote cannot be reached), and copies the pack file
 * and the files beside it out at the commit the ref resolved to.
 */
export async function fetchGitPack(entry: string, stateDir: string, git: GitRunner): Promise<Result<FetchedPack, string>> {
  const { url, ref, path } = parseGitUse(entry);
  if (ref.startsWith("-") || url.startsWith("-")) return err(`git pack ${entry}: a URL or ref may not start with "-"`);
  if (path.split("/").includes("..")) return err(`git pack ${entry}: the path may not leave the repository`);
  // Loaded here, not with the module: node:crypto costs ~3 ms, and most runs fetch no git pack.
  const { createHash } = await import("node:crypto");
  const cache = join(stateDir, "packs", "git", createHash("sha256").update(url).digest("hex").slice(0, 16));
  try {
    mkdirSync(cache, { recursive: true });
    if (!existsSync(join(cache, "HEAD"))) await git(["init", "--bare", "--quiet", "--template=", cache], cache);
  } catch (error) {
    return err(`git pack ${entry}: could not make its cache ${cache}: ${message(error)}`);
  }
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
      if (commit === undefined) return err(`git pack ${entry}: ${message(error)}`);
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
  // The files beside the pack (its templates, judge rubrics) come too: the pack names them relative to itself.
  const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    const beside = (await git(["ls-tree", "-r", "--name-only", commit, "--", folder], cache)).split("\n").filter((f) => f !== "" && f !== path);
    for (const other of beside.slice(0, MAX_PACK_FILES)) {
      const target = join(checkout, ...other.split("/"));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, await git(["show", `${commit}:${other}`], cache));
    }
  } catch (error) {
    // Say so rather than go on with a pack whose templates are half copied.
    return err(`git pack ${entry}: could not copy ${path} and the files beside it out of the cache: ${message(error)}`);
  }
  return ok({ file, commit });
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
