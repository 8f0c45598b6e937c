/**
 * Held-out gates: the gates judge the agent's code against the project's own tests, not the agent's version of them.
 * Hidden files (held-out tests) are taken out of the workspace while the agent works and put back before anything
 * looks at its work; protected paths the agent changed are put back as they were before the attempt, right before the
 * gates run. The agent's change set still shows what it did to protected paths (the decision rejects it); hidden files
 * never show in it, because they are back before it is taken.
 */
import type { FileChange } from "../core/events.js";
import { globMatcher } from "../core/glob.js";
import type { TaskSpec } from "../core/pipeline.js";
import type { ChangeSet, CheckpointId, Workspace } from "../workspace/port.js";
import { sectionOf, splitEntry } from "./protect-sections.js";

/** After the pre-attempt checkpoint: removes the task's hidden files; returns them, to put back after the agent. */
export async function hideFiles(workspace: Workspace, task: TaskSpec, before: CheckpointId): Promise<string[]> {
  if (task.hidden === undefined || task.hidden.length === 0) return [];
  const isHidden = globMatcher(task.hidden);
  const hidden = (await workspace.pathsAt(before)).filter((p) => isHidden(p));
  await workspace.removePaths(hidden);
  return hidden;
}

/** After the agent, before its changes are taken: the hidden files back as they were, whatever it wrote there. */
export async function unhideFiles(workspace: Workspace, before: CheckpointId, hidden: readonly string[]): Promise<void> {
  if (hidden.length > 0) await workspace.restorePaths(before, hidden);
}

/** A protected path the agent changed, put back before the gates ran; `section` when only that part counted. */
export interface RestoredPath {
  readonly path: string;
  readonly section?: string;
}

/**
 * Before the gates: every changed path a `protect:` entry covers goes back to its pre-attempt version. A `FILE#SECTION`
 * entry covers its file only when that section changed (an added dependency is not a changed test script).
 */
export async function restoreProtected(workspace: Workspace, task: TaskSpec, before: CheckpointId, changes: ChangeSet): Promise<RestoredPath[]> {
  if (task.protect.length === 0 || changes.files.length === 0) return [];
  const entries = task.protect.map(splitEntry);
  const whole = entries.filter((e) => e.section === undefined).map((e) => e.glob);
  const isWhole = whole.length === 0 ? () => false : globMatcher(whole);
  const parts = entries.filter((e) => e.section !== undefined).map((e) => ({ section: e.section ?? "", matches: globMatcher([e.glob]) }));
  const restored: RestoredPath[] = [];
  for (const file of changes.files) {
    if (isWhole(file.path)) {
      restored.push({ path: file.path });
      continue;
    }
    const changed = await changedSections(workspace, file, parts.filter((p) => p.matches(file.path)).map((p) => p.section), { before, after: changes.checkpoint });
    if (changed.length > 0) restored.push({ path: file.path, section: changed.join(", ") });
  }
  await workspace.restorePaths(before, restored.map((r) => r.path));
  return restored;
}

async function changedSections(workspace: Workspace, file: FileChange, sections: readonly string[], at: { before: CheckpointId; after: CheckpointId }): Promise<string[]> {
  if (sections.length === 0) return [];
  const [was, now] = await Promise.all([workspace.readAt(at.before, file.path), workspace.readAt(at.after, file.path)]);
  return sections.filter((s) => sectionOf(file.path, was, s) !== sectionOf(file.path, now, s));
}

/** How the decision names a restored path: `package.json (its scripts)`. */
export function describeRestored(r: RestoredPath): string {
  return r.section === undefined ? r.path : `${r.path} (its ${r.section})`;
}
