/**
 * A deterministic, wide-and-deep random DAG: the shape of a large hyper-parameter sweep.
 *
 * Steps are laid out in levels of random width (1 to 2 x sqrt(n)); every step after the
 * first level reads the artifact of 1 to 3 distinct earlier steps, most often from the
 * level just before it (so the graph is deep), otherwise from any earlier level (so it is
 * tangled). The same `n` and `seed` always give the same graph.
 */
import { mulberry32 } from '../src/model/seeded-random';

export interface DagStep {
  /** Step id, a DNS label: `s0042`. */
  readonly id: string;
  readonly index: number;
  readonly level: number;
  /** Indexes of the steps whose artifact this step reads (1-3, distinct, all earlier). */
  readonly reads: number[];
  /** Indexes of steps to wait for without reading their artifact (`after()`). */
  readonly after?: number[];
}

export interface Dag {
  readonly steps: DagStep[];
  readonly levels: number;
  readonly edges: number;
  readonly maxWidth: number;
}

export function randomDag(n: number, seed = 42): Dag {
  const rand = mulberry32(seed ^ n);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const maxLevelWidth = Math.max(1, Math.round(2 * Math.sqrt(n)));
  const steps: DagStep[] = [];
  const levelStart: number[] = [];
  let level = 0;
  let maxWidth = 0;
  let edges = 0;
  while (steps.length < n) {
    const width = Math.min(n - steps.length, int(1, maxLevelWidth));
    maxWidth = Math.max(maxWidth, width);
    levelStart.push(steps.length);
    const prevStart = level > 0 ? levelStart[level - 1] : 0;
    const thisStart = steps.length;
    for (let k = 0; k < width; k++) {
      const index = steps.length;
      const reads = new Set<number>();
      if (level > 0) {
        const want = Math.min(int(1, 3), thisStart);
        while (reads.size < want) {
          // 70%: the previous level; 30%: anywhere earlier.
          reads.add(rand() < 0.7 ? int(prevStart, thisStart - 1) : int(0, thisStart - 1));
        }
      }
      edges += reads.size;
      steps.push({ id: `s${String(index).padStart(4, '0')}`, index, level, reads: [...reads] });
    }
    level++;
  }
  return { steps, levels: level, edges, maxWidth };
}

/**
 * A hyper-parameter sweep: one `prepare` step, n - 2 trials that each read its artifact,
 * and one `select` step that waits for every trial (`after()`). The widest shape there
 * is: n - 2 steps become ready at once.
 */
export function fanOutDag(n: number): Dag {
  if (n < 3) throw new Error('a fan-out DAG needs at least 3 steps');
  const steps: DagStep[] = [{ id: 's0000', index: 0, level: 0, reads: [] }];
  const trials: number[] = [];
  for (let index = 1; index < n - 1; index++) {
    steps.push({ id: `s${String(index).padStart(4, '0')}`, index, level: 1, reads: [0] });
    trials.push(index);
  }
  steps.push({ id: `s${String(n - 1).padStart(4, '0')}`, index: n - 1, level: 2, reads: [0], after: trials });
  return { steps, levels: 3, edges: 2 * (n - 2) + 1, maxWidth: n - 2 };
}

export type Shape = 'dag' | 'fanout';

export function makeDag(shape: Shape, n: number): Dag {
  return shape === 'fanout' ? fanOutDag(n) : randomDag(n);
}
