import { rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Removes `paths` (files, relative to `workspace`; a missing one is no error) and then each folder they leave empty,
 * as git does when it removes a path.
 */
export async function removeFiles(workspace: string, paths: readonly string[]): Promise<void> {
  const folders = new Set<string>();
  for (const path of paths) {
    await rm(join(workspace, path), { force: true });
    for (let dir = dirname(path); dir !== "." && dir !== "/"; dir = dirname(dir)) folders.add(dir);
  }
  // Deepest first; rmdir refuses a folder that still holds something, which is what should stay.
  for (const dir of [...folders].sort((a, b) => b.length - a.length)) await rmdir(join(workspace, dir)).catch(() => undefined);
}
