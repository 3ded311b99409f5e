import type { Construct } from 'constructs';
import type { Step } from './step';

/**
 * Steps that run as one unit of the plan: the instances of a fan-out over items, or the
 * trials of a sweep. Each member is an ordinary step (its own Job, retried on its own); the
 * group adds what the coordinator decides over all of them: how many run at once and how
 * many may fail without failing the run (plan columns 9 and 8,
 * docs/coordinator-contract.md). Its members write their outputs into one directory per
 * output, a folder per item, which is what a fan-in step reads.
 */
export class StepGroup {
  /** The members, in item order; a member's index is its position here. */
  public readonly members: Step[] = [];

  /**
   * @param scope the construct that made the group (a `FanOut`, a `Sweep`), for messages
   * @param name the group's name in the plan and its folder name: the construct's path below the pipeline, joined with '-'
   * @param parallelism at most this many members run at once; undefined for no cap of its own
   * @param failureBudget how many members may fail without failing the run
   */
  public constructor(
    public readonly scope: Construct,
    public readonly name: string,
    public readonly parallelism: number | undefined,
    public readonly failureBudget: number,
  ) {}
}

/** Where a step stands in its group. */
export interface GroupMembership {
  readonly group: StepGroup;
  /** The member's position: the name of its folder under each output. */
  readonly index: number;
}
