import type { IConstruct } from 'constructs';
import { findCycles, levelsOf, topologicalOrder } from './graph-algorithms';
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
  private indexed?: number[][];

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
    this.sorted ??= topologicalOrder(this.upstreamIndexes()).map((i) => this.steps[i]);
    return this.sorted;
  }

  /** Each step's level: 0 for steps with no upstream, else 1 + the deepest upstream. */
  public levels(): Map<Step, number> {
    const levels = levelsOf(this.upstreamIndexes());
    return new Map(this.steps.map((s, i) => [s, levels[i]]));
  }

  private foreignStepMessage(step: Step, up: Step): string {
    const other = up.pipeline === this.pipeline ? 'a step that was never added' : `pipeline '${up.pipeline.node.path}'`;
    return `step '${step.stepName}' depends on '${up.node.path}', which belongs to ${other}; `
      + 'a pipeline can only wait for its own steps: move that step into this pipeline or pass the data another way';
  }

  /** The cycle through the earliest-added step on one, in execution order, first step repeated at the end. */
  private findCycle(): Step[] | undefined {
    const cycle = findCycles(this.upstreamIndexes())[0];
    return cycle && [...cycle, cycle[0]].map((i) => this.steps[i]);
  }

  /** The graph with steps numbered in the order they were added. */
  private upstreamIndexes(): number[][] {
    if (this.indexed) return this.indexed;
    const index = new Map(this.steps.map((s, i) => [s, i]));
    this.indexed = this.steps.map((s) => this.upstream(s).map((u) => index.get(u)!));
    return this.indexed;
  }
}
