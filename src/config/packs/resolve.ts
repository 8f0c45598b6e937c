/**
 * Resolves a pipeline's `uses:` (orchestrator.yaml's entries first) to the packs it reads, each with where it came
 * from: a local file, a shipped or npm pack (uses.ts, locate.ts), or a git pack fetched into the cache under the state
 * directory (git.ts). A pack that cannot be found or fetched is reported at its entry; problems inside a pack file at
 * their place in it.
 */
import { existsSync } from "node:fs";
import type { PackInfo } from "../../core/pipeline.js";
import { q } from "../describe.js";
import { fetchGitPack, type GitRunner } from "./git.js";
import { locatePackage } from "./locate.js";
import type { LoadedRulePack, PackReads } from "./read.js";
import { useKind, type UseEntry } from "./uses.js";

export interface PackSources {
  /** Where node_modules is looked for (walking up): the project root, then the pipeline's directory. */
  readonly from: readonly string[];
  readonly stateDir: string;
  /** How git packs are fetched; false fetches nothing (and writes nothing): git packs are then not read. */
  readonly fetch: GitRunner | false;
}

export interface ResolvedPacks {
  /** The packs read, in `uses:` order. */
  readonly packs: readonly LoadedRulePack[];
  /** Where each came from, as the run's spec records it. */
  readonly infos: readonly PackInfo[];
  /** false when some pack was not read (a git pack not fetched, or one with problems): names only it could define are not checked. */
  readonly complete: boolean;
}

export async function resolvePacks(entries: readonly UseEntry[], sources: PackSources, reads: PackReads): Promise<ResolvedPacks> {
  const packs: LoadedRulePack[] = [];
  const infos: PackInfo[] = [];
  let complete = true;
  const seen = new Set<string>();
  for (const use of entries) {
    if (seen.has(use.entry)) continue;
    seen.add(use.entry);
    const located = await locate(use, sources);
    const pack = located === undefined ? undefined : reads.read(located.file);
    if (located === undefined || pack === undefined) {
      complete = false;
      continue;
    }
    packs.push(pack);
    infos.push({ ...located, name: pack.name, version: pack.version, source: use.entry });
  }
  return { packs, infos, complete };
}

type Located = Pick<PackInfo, "file" | "kind" | "commit">;

async function locate(use: UseEntry, sources: PackSources): Promise<Located | undefined> {
  const kind = useKind(use.entry);
  if (kind === "local") {
    if (existsSync(use.entry)) return { file: use.entry, kind };
    use.report("missing-pack", `rule pack ${q(use.written)} not found`);
    return undefined;
  }
  if (kind === "package") {
    const located = locatePackage(use.entry, sources.from);
    if (located.ok) return located.value;
    use.report("unknown-pack", located.failure);
    return undefined;
  }
  if (sources.fetch === false) return undefined;
  const fetched = await fetchGitPack(use.entry, sources.stateDir, sources.fetch);
  if (fetched.ok) return { file: fetched.value.file, kind, commit: fetched.value.commit };
  use.report("git-pack", fetched.failure);
  return undefined;
}
