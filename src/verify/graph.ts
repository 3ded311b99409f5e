/**
 * Graph algorithms over step dependencies, all deterministic (ties broken by name) because
 * their results end up in printed plans and error messages that tests and reviewers diff.
 * A graph maps each step to its upstream steps; upstreams that are not nodes are ignored
 * (the checks report them separately).
 */
import {
  criticalPath as sharedCriticalPath, findCycles as sharedFindCycles, levelsOf as sharedLevelsOf, topologicalOrder as sharedTopologicalOrder,
} from '../model/graph-algorithms';
import { byString } from './types';

export type Upstreams = ReadonlyMap<string, readonly string[]>;

function known(graph: Upstreams, step: string): string[] {
  return [...new Set(graph.get(step) ?? [])].filter((u) => graph.has(u)).sort(byString);
}

/** The graph numbered in name order, so the shared algorithms' ties go to the smaller name. */
function numbered(graph: Upstreams): { names: string[]; upstream: number[][] } {
  const names = [...graph.keys()].sort(byString);
  const index = new Map(names.map((n, i) => [n, i]));
  return { names, upstream: names.map((n) => known(graph, n).map((u) => index.get(u)!)) };
}

/**
 * Every elementary cycle's representative: one per strongly connected component that has a
 * cycle, as the list of steps in flow order (upstream first), starting at the smallest name.
 */
export function findCycles(graph: Upstreams): string[][] {
  const { names, upstream } = numbered(graph);
  return sharedFindCycles(upstream).map((cycle) => cycle.map((i) => names[i]));
}

/** `a => b => a`: the cycle with its first step repeated, so the loop is visible. */
export function showCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(' => ');
}

/** Level of each step: 0 without upstreams, else 1 + the highest upstream level. Graph must be acyclic. */
export function levelsOf(graph: Upstreams): Map<string, number> {
  const { names, upstream } = numbered(graph);
  const order = sharedTopologicalOrder(upstream);
  if (order.length !== names.length) throw new Error('internal error: levels of a cyclic graph');
  const levels = sharedLevelsOf(upstream, order);
  return new Map(names.map((n, i) => [n, levels[i]]));
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
  const { names, upstream } = numbered(graph);
  return sharedCriticalPath(upstream).map((i) => names[i]);
}
