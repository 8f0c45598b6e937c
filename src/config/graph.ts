/** Semantic rules over `needs`: unknown and self needs, and dependency cycles named task by task. */
import { didYouMean, q } from "./describe.js";
import type { Ref, Scope } from "./scope.js";

export interface TaskNeeds {
  readonly id: string;
  readonly needs: readonly Ref[];
}

/** `tasks` holds each id once (duplicates already reported), in file order. */
export function checkNeeds(tasks: readonly TaskNeeds[], scope: Scope): void {
  const ids = new Set(tasks.map((t) => t.id));
  const edges = new Map<string, Ref[]>();
  for (const task of tasks) {
    const known: Ref[] = [];
    for (const need of task.needs) {
      if (need.name === task.id) {
        scope.out.error("self-need", `task ${q(task.id)} needs itself`, need.path);
      } else if (!ids.has(need.name)) {
        const hint = scope.out.full ? "" : didYouMean(need.name, ids);
        scope.out.error("unknown-need", `task ${q(task.id)} needs unknown task ${q(need.name)}${hint}`, need.path);
      } else {
        known.push(need);
      }
    }
    edges.set(task.id, known);
  }
  for (const cycle of findCycles(tasks.map((t) => t.id), edges)) {
    if (scope.out.full) return;
    const [first, second] = cycle;
    const ref = edges.get(first ?? "")?.find((r) => r.name === second);
    scope.out.error("cycle", `dependency cycle: ${cycle.join(" -> ")}`, ref?.path ?? []);
  }
}

/**
 * Every task on a cycle, as cycles `[a, b, c, a]` (a needs b needs c needs a), each starting at the first of its tasks
 * in file order. Strongly connected components (Tarjan, iterative: a chain of 10,000 tasks must not overflow the
 * stack), then within each the shortest cycle through each task not yet named.
 */
function findCycles(order: readonly string[], edges: ReadonlyMap<string, readonly Ref[]>): string[][] {
  const cycles: string[][] = [];
  for (const component of components(order, edges)) {
    if (component.size < 2) continue;
    const named = new Set<string>();
    for (const start of order) {
      if (!component.has(start) || named.has(start)) continue;
      const cycle = shortestCycle(start, component, edges);
      for (const id of cycle) named.add(id);
      cycles.push(cycle);
    }
  }
  return cycles;
}

function shortestCycle(start: string, within: ReadonlySet<string>, edges: ReadonlyMap<string, readonly Ref[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i] ?? "";
    for (const { name } of edges.get(id) ?? []) {
      if (!within.has(name)) continue;
      if (name === start) {
        const path = [start];
        for (let at: string | undefined = id; at !== undefined && at !== start; at = previous.get(at)) path.push(at);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (previous.has(name)) continue;
      previous.set(name, id);
      queue.push(name);
    }
  }
  return [start, start];
}

function components(order: readonly string[], edges: ReadonlyMap<string, readonly Ref[]>): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result: Set<string>[] = [];
  let counter = 0;
  for (const root of order) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const out = edges.get(frame.id) ?? [];
      const edge = out[frame.next++];
      if (edge !== undefined) {
        const to = edge.name;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ id: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.id, Math.min(low.get(frame.id) ?? 0, index.get(to) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.id, Math.min(low.get(parent.id) ?? 0, low.get(frame.id) ?? 0));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component = new Set<string>();
        for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
          onStack.delete(id);
          component.add(id);
          if (id === frame.id) break;
        }
        result.push(component);
      }
    }
  }
  return result;
}
