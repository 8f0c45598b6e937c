import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** git's own defaults for `gc --auto`: loose objects (gc.auto) and packs (gc.autoPackLimit) that make gc due. */
export const GC_LOOSE_OBJECTS = 6700;
export const GC_PACKS = 50;

/**
 * Whether `git gc --auto` would find work in the store, estimated the way git does (loose objects in `objects/17`
 * times 256, and the number of packs) without starting a process, so the check can run before every attempt.
 */
export async function gcDue(storeDir: string): Promise<boolean> {
  const objects = join(storeDir, "objects");
  const sample = await readdir(join(objects, "17")).catch(() => []);
  if (sample.filter((name) => /^[0-9a-f]{38}([0-9a-f]{24})?$/.test(name)).length * 256 > GC_LOOSE_OBJECTS) return true;
  const packs = await readdir(join(objects, "pack")).catch(() => []);
  return packs.filter((name) => name.endsWith(".pack")).length > GC_PACKS;
}

/**
 * Bytes a directory takes on disk (allocated blocks, as `du` counts them), everything under it included; 0 if absent.
 * A file with other hard links (objects the store shares with the user's repository) is not counted: it costs no
 * more disk for being in the store, until the user's copy goes.
 */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else total += await stat(full).then((s) => (s.nlink > 1 ? 0 : s.blocks > 0 ? s.blocks * 512 : s.size), () => 0);
  }
  return total;
}

/** Where a state directory keeps its checkpoint store. */
export function checkpointStoreDir(stateDir: string): string {
  return join(stateDir, "checkpoints.git");
}

/**
 * The size of a state directory's checkpoint store, for `orc status`: no git, no workspace needed. Objects borrowed
 * from the user's repository are not counted (they stay in the user's `.git`).
 */
export function checkpointStoreSize(stateDir: string): Promise<number> {
  return directorySize(checkpointStoreDir(stateDir));
}
