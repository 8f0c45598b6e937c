/**
 * At most `limit` paths that together cover `paths` (relative, `/`-separated): each given path or a directory above
 * it, deepest paths lifted first, so that a burst in one directory (a build's output) becomes that directory. Paths
 * under another kept path are dropped. Undefined when only the whole workspace would do.
 *
 * Why a limit at all: git matches every index entry against every pathspec, so `ls-files` with 100 pathspecs costs
 * about twice `git status` on a 100,000-file index; past that, recording the whole workspace is cheaper.
 */
export function coverPaths(paths: readonly string[], limit: number): string[] | undefined {
  let kept = outermost(paths);
  while (kept.size > limit) {
    const deepest = Math.max(...[...kept].map(depth));
    if (deepest === 0) return undefined;
    kept = outermost([...kept].map((p) => (depth(p) === deepest ? p.slice(0, p.lastIndexOf("/")) : p)));
  }
  return [...kept].sort();
}

/** `paths` without those that lie under another of them. */
function outermost(paths: readonly string[]): Set<string> {
  const all = new Set(paths);
  const kept = new Set<string>();
  for (const path of all) {
    let above = path.lastIndexOf("/");
    while (above > 0 && !all.has(path.slice(0, above))) above = path.lastIndexOf("/", above - 1);
    if (above <= 0) kept.add(path);
  }
  return kept;
}

function depth(path: string): number {
  let n = 0;
  for (const ch of path) if (ch === "/") n++;
  return n;
}
