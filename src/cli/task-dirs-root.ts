/** Tasks side by side need a root for their directories that only this user can enter (src/workspace/task-dirs.ts). */
export async function taskDirsRefused(concurrency: number, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  if (concurrency <= 1) return undefined;
  const { claimTaskDirsRoot, taskDirsRoot } = await import("../workspace/task-dirs.js");
  return claimTaskDirsRoot(taskDirsRoot(env));
}
