import type { IConstruct } from 'constructs';
import { dnsLabelProblem } from './names';
import type { Pipeline } from './pipeline';
import type { Step } from './step';

/** A problem found at synthesis, attached to the construct it concerns. */
export interface GraphProblem {
  /** The step (or pipeline) at fault; its path prefixes the message. */
  readonly construct: IConstruct;
  readonly message: string;
}

/**
 * The steps of one pipeline and the edges between them.
 *
 * Built once per synthesis from the steps' `upstream`; the order of steps with no edge
 * between them is the order they were added, so output never depends on hash ordering.
 */
export class PipelineGraph {
  /** Problems that make the graph unusable: foreign steps, duplicate names, cycles. */
  public readonly problems: GraphProblem[] = [];
  private readonly upstreamOf = new Map<Step, Step[]>();
  private readonly downstreamOf = new Map<Step, Step[]>();
  private sorted?: Step[];

  public constructor(private readonly pipeline: Pipeline, public readonly steps: readonly Step[]) {
    const known = new Set(steps);
    const byName = new Map<string, Step>();
    for (const step of steps) {
      const nameProblem = dnsLabelProblem(step.stepName);
      if (nameProblem) {
        this.problems.push({
          construct: step,
          message: `step name '${step.stepName}', made of the construct ids below the pipeline, is not a valid name: ${nameProblem}; `
            + 'rename the enclosing constructs',
        });
      }
      const clash = byName.get(step.stepName);
      if (clash) {
        this.problems.push({
          construct: step,
          message: `duplicate step name '${step.stepName}' (also used by ${clash.node.path}); rename one of the two constructs`,
        });
      }
      byName.set(step.stepName, step);
      this.downstreamOf.set(step, []);
    }
    for (const step of steps) {
      const upstream: Step[] = [];
      for (const up of step.upstream) {
        if (!known.has(up)) {
          this.problems.push({ construct: step, message: this.foreignStepMessage(step, up) });
          continue;
        }
        upstream.push(up);
        this.downstreamOf.get(up)!.push(step);
      }
      this.upstreamOf.set(step, upstream);
    }
    const cycle = this.findCycle();
    if (cycle) {
      this.problems.push({
        construct: cycle[0],
        message: `dependency cycle detected: ${cycle.map((s) => s.stepName).join(' => ')}; remove one of these after() calls or inputs`,
      });
    }
  }

  /** The steps `step` waits for, within this pipeline. */
  public upstream(step: Step): readonly Step[] {
    return this.upstreamOf.get(step) ?? [];
  }

  /** The steps that wait for `step`. */
  public downstream(step: Step): readonly Step[] {
    return this.downstreamOf.get(step) ?? [];
  }

  /**
   * Every step after all of its upstream steps; ties keep the order steps were added.
   * Only meaningful when `problems` is empty.
   */
  public topologicalOrder(): Step[] {
    if (this.sorted) return this.sorted;
    const index = new Map(this.steps.map((s, i) => [s, i]));
    const remaining = this.steps.map((s) => this.upstream(s).length);
    // The ready steps, as a min-heap of their insertion index: taking the smallest each
    // time keeps ties in the order steps were added (stable, readable output) in
    // O(log n) per step, where a sorted array costs O(n) (a sweep releases thousands at once).
    const ready = new MinHeap();
    remaining.forEach((left, i) => {
      if (left === 0) ready.push(i);
    });
    const order: Step[] = [];
    while (ready.size > 0) {
      const step = this.steps[ready.pop()];
      order.push(step);
      for (const down of this.downstream(step)) {
        const i = index.get(down)!;
        if (--remaining[i] === 0) ready.push(i);
      }
    }
    this.sorted = order;
    return order;
  }

  /** Each step's level: 0 for steps with no upstream, else 1 + the deepest upstream. */
  public levels(): Map<Step, number> {
    const levels = new Map<Step, number>();
    for (const step of this.topologicalOrder()) {
      levels.set(step, Math.max(-1, ...this.upstream(step).map((u) => levels.get(u)!)) + 1);
    }
    return levels;
  }

  private foreignStepMessage(step: Step, up: Step): string {
    const other = up.pipeline === this.pipeline ? 'a step that was never added' : `pipeline '${up.pipeline.node.path}'`;
    return `step '${step.stepName}' depends on '${up.node.path}', which belongs to ${other}; `
      + 'a pipeline can only wait for its own steps: move that step into this pipeline or pass the data another way';
  }

  /** The first cycle found, as a closed path (first step repeated at the end). */
  private findCycle(): Step[] | undefined {
    const state = new Map<Step, 'visiting' | 'done'>();
    const stack: Step[] = [];
    const visit = (step: Step): Step[] | undefined => {
      state.set(step, 'visiting');
      stack.push(step);
      for (const up of this.upstream(step)) {
        if (state.get(up) === 'visiting') {
          // Report in execution order (upstream first), the way users read a pipeline.
          return [...stack.slice(stack.indexOf(up)), up].reverse();
        }
        if (!state.has(up)) {
          const found = visit(up);
          if (found) return found;
        }
      }
      stack.pop();
      state.set(step, 'done');
      return undefined;
    };
    for (const step of this.steps) {
      if (!state.has(step)) {
        const found = visit(step);
        if (found) return found;
      }
    }
    return undefined;
  }
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
