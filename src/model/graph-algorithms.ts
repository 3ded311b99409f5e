/**
 * Graph algorithms over nodes numbered 0..n-1, each given by the nodes it waits for
 * (`upstream[i]`). Shared by the model (steps, numbered in the order they were added) and
 * verify (steps read back from YAML, numbered in name order), so both see the same cycles
 * and orders. Every walk is iterative: a chain of thousands of steps must not overflow the
 * call stack, whatever order its steps were declared in. Ties always go to the smaller
 * number, so results are deterministic.
 */

/** Upstream adjacency: `upstream[i]` are the nodes node `i` waits for. */
export type Upstream = readonly (readonly number[])[];

/** Downstream adjacency (the reverse of `upstream`), each list ascending and without repeats. */
export function downstreamOf(upstream: Upstream): number[][] {
  const down: number[][] = upstream.map(() => []);
  upstream.forEach((ups, node) => {
    for (const up of new Set(ups)) down[up].push(node);
  });
  return down;
}

/**
 * Strongly connected components by Tarjan's algorithm, with an explicit stack of frames in
 * place of recursion. Roots are tried in ascending order.
 */
function stronglyConnected(down: readonly (readonly number[])[]): number[][] {
  const n = down.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const open = (node: number) => {
    index[node] = low[node] = counter++;
    stack.push(node);
    onStack[node] = true;
  };
  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    open(root);
    const work: { node: number; next: number }[] = [{ node: root, next: 0 }];
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const succ = down[frame.node];
      if (frame.next < succ.length) {
        const w = succ[frame.next++];
        if (index[w] < 0) {
          open(w);
          work.push({ node: w, next: 0 });
        } else if (onStack[w]) {
          low[frame.node] = Math.min(low[frame.node], index[w]);
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low[parent] = Math.min(low[parent], low[frame.node]);
      }
      if (low[frame.node] === index[frame.node]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component.push(w);
        } while (w !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/**
 * One cycle per strongly connected component that has one, each in flow order (upstream
 * first) starting at the component's smallest node: the shortest cycle through that node.
 * Sorted by first node. Empty when the graph is acyclic.
 */
export function findCycles(upstream: Upstream): number[][] {
  const down = downstreamOf(upstream);
  const cycles: number[][] = [];
  for (const component of stronglyConnected(down)) {
    const start = component.reduce((a, b) => Math.min(a, b));
    if (component.length === 1 && !down[start].includes(start)) continue;
    cycles.push(shortestCycleFrom(start, down, new Set(component)));
  }
  return cycles.sort((a, b) => a[0] - b[0]);
}

/** Breadth-first, neighbours in ascending order: the shortest cycle through `start`. */
function shortestCycleFrom(start: number, down: readonly (readonly number[])[], members: ReadonlySet<number>): number[] {
  const prev = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head];
    for (const w of down[node]) {
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

/**
 * Every node after all of its upstream nodes (Kahn's algorithm); among the nodes ready at
 * once the smallest goes first, so a graph without edges keeps its numbering. Nodes on or
 * behind a cycle are left out: the result is shorter than the graph exactly when it has one.
 */
export function topologicalOrder(upstream: Upstream): number[] {
  const down = downstreamOf(upstream);
  const remaining = upstream.map((ups) => new Set(ups).size);
  // A min-heap of ready nodes: a sweep releases thousands at once, and a sorted array would
  // cost O(n) per insertion where the heap costs O(log n).
  const ready = new MinHeap();
  remaining.forEach((left, node) => {
    if (left === 0) ready.push(node);
  });
  const order: number[] = [];
  while (ready.size > 0) {
    const node = ready.pop();
    order.push(node);
    for (const d of down[node]) {
      if (--remaining[d] === 0) ready.push(d);
    }
  }
  return order;
}

/**
 * Each node's level: 0 without upstream, else 1 + its highest upstream's level; -1 for
 * nodes on or behind a cycle.
 */
export function levelsOf(upstream: Upstream, order = topologicalOrder(upstream)): number[] {
  const levels = upstream.map(() => -1);
  for (const node of order) {
    let level = 0;
    for (const up of upstream[node]) level = Math.max(level, levels[up] + 1);
    levels[node] = level;
  }
  return levels;
}

/**
 * The longest chain by node count: what bounds a run's time when every step takes about as
 * long. Among equally long chains, the one whose nodes are smallest from the first node on
 * (number the nodes in name order to break ties by name). Empty for an empty or cyclic graph.
 */
export function criticalPath(upstream: Upstream): number[] {
  const order = topologicalOrder(upstream);
  if (order.length === 0 || order.length !== upstream.length) return [];
  const down = downstreamOf(upstream);
  // Nodes in the longest chain starting at each node, filled from the last nodes backwards.
  const remaining = new Array<number>(upstream.length).fill(1);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    for (const d of down[node]) remaining[node] = Math.max(remaining[node], remaining[d] + 1);
  }
  // Candidates ascend, and only a strictly longer chain replaces the first: ties go to the smaller.
  const pick = (candidates: readonly number[]) => candidates.reduce((best, n) => (remaining[n] > remaining[best] ? n : best));
  const roots = upstream.flatMap((ups, node) => (ups.length === 0 ? [node] : []));
  const path = [pick(roots)];
  for (let next = down[path[0]]; next.length > 0; next = down[path[path.length - 1]]) path.push(pick(next));
  return path;
}

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly items: number[] = [];

  public get size(): number {
    return this.items.length;
  }

  public push(value: number): void {
    const a = this.items;
    let i = a.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= value) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = value;
  }

  /** Removes and returns the smallest value; the heap must not be empty. */
  public pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
