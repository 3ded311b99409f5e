/**
 * Graph algorithms over step dependencies, all deterministic (ties broken by name) because
 * their results end up in printed plans and error messages that tests and reviewers diff.
 * A graph maps each step to its upstream steps; upstreams that are not nodes are ignored
 * (the checks report them separately).
 */
import { byString } from './types';

export type Upstreams = ReadonlyMap<string, readonly string[]>;

function known(graph: Upstreams, step: string): string[] {
  return [...new Set(graph.get(step) ?? [])].filter((u) => graph.has(u)).sort(byString);
}

/** Downstream adjacency (the reverse of `graph`), sorted. */
export function downstreams(graph: Upstreams): Map<string, string[]> {
  const out = new Map<string, string[]>([...graph.keys()].map((k) => [k, []]));
  for (const step of graph.keys()) {
    for (const u of known(graph, step)) out.get(u)!.push(step);
  }
  for (const list of out.values()) list.sort(byString);
  return out;
}

/**
 * Every elementary cycle's representative: one per strongly connected component that has a
 * cycle, as the list of steps in flow order (upstream first), starting at the smallest name.
 */
export function findCycles(graph: Upstreams): string[][] {
  const down = downstreams(graph);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  // Iterative Tarjan, so a long chain of steps cannot overflow the call stack.
  for (const root of [...graph.keys()].sort(byString)) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1];
      const succ = down.get(frame.node)!;
      if (frame.next < succ.length) {
        const w = succ[frame.next++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== frame.node);
        components.push(comp);
      }
    }
  }

  const cycles: string[][] = [];
  for (const comp of components) {
    const members = new Set(comp);
    const start = [...comp].sort(byString)[0];
    const selfLoop = down.get(start)!.includes(start);
    if (comp.length === 1 && !selfLoop) continue;
    if (selfLoop) {
      cycles.push([start]);
      continue;
    }
    cycles.push(shortestCycleFrom(start, down, members));
  }
  return cycles.sort((a, b) => byString(a[0], b[0]));
}

/** Breadth-first, neighbours in name order: the shortest cycle through `start`, deterministic. */
function shortestCycleFrom(start: string, down: Map<string, string[]>, members: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const w of down.get(node)!) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(prev.get(path[0])!);
        return path;
      }
      if (!prev.has(w)) {
        prev.set(w, node);
        queue.push(w);
      }
    }
  }
  return [start];
}

/** `a => b => a`: the cycle with its first step repeated, so the loop is visible. */
export function showCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(' => ');
}

/**
 * Kahn's algorithm, iterative so a chain of thousands of steps cannot overflow the stack.
 * Returns the steps in an order where every upstream comes first. Graph must be acyclic.
 */
function kahn(graph: Upstreams): string[] {
  const down = downstreams(graph);
  const pending = new Map([...graph.keys()].map((s) => [s, known(graph, s).length]));
  const ready = [...graph.keys()].filter((s) => pending.get(s) === 0).sort(byString);
  const out: string[] = [];
  while (ready.length) {
    const s = ready.shift()!;
    out.push(s);
    for (const d of down.get(s)!) {
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  if (out.length !== graph.size) throw new Error('internal error: levels of a cyclic graph');
  return out;
}

/** Level of each step: 0 without upstreams, else 1 + the highest upstream level. Graph must be acyclic. */
export function levelsOf(graph: Upstreams): Map<string, number> {
  const level = new Map<string, number>();
  for (const step of kahn(graph)) {
    const ups = known(graph, step);
    level.set(step, ups.length ? 1 + Math.max(...ups.map((u) => level.get(u)!)) : 0);
  }
  return level;
}

/** Topological order: by level, then by name. Graph must be acyclic. */
export function topologicalOrder(graph: Upstreams, levels = levelsOf(graph)): string[] {
  return [...graph.keys()].sort((a, b) => levels.get(a)! - levels.get(b)! || byString(a, b));
}

/**
 * The longest chain by step count. Among equally long chains, the one whose steps compare
 * smallest by name from the first step on. Graph must be acyclic.
 */
export function criticalPath(graph: Upstreams): string[] {
  const down = downstreams(graph);
  // Steps in the longest chain starting at each step, filled from the last steps backwards.
  const remaining = new Map<string, number>();
  for (const step of kahn(graph).reverse()) {
    const next = down.get(step)!;
    remaining.set(step, 1 + (next.length ? Math.max(...next.map((n) => remaining.get(n)!)) : 0));
  }
  const roots = [...graph.keys()].filter((s) => known(graph, s).length === 0).sort(byString);
  if (!roots.length) return [];
  // Candidates are sorted, and only a strictly longer chain replaces the first: ties go to the smaller name.
  const pick = (candidates: readonly string[]) =>
    candidates.reduce((best, s) => (remaining.get(s)! > remaining.get(best)! ? s : best), candidates[0]);
  const path = [pick(roots)];
  for (;;) {
    const next = down.get(path[path.length - 1])!;
    if (!next.length) return path;
    path.push(pick(next));
  }
}
