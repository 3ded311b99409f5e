import { Construct } from 'constructs';
import type { ArtifactType } from '../model/artifact';
import { ItemOutputs } from '../model/item-outputs';
import { StepGroup } from '../model/step-group';
import type { Step } from '../model/step';
import type { ContainerStepProps } from './container-step';
import { FanOutItem, itemEnv, itemsProblem } from './fan-out-items';
import { GroupInstance, groupName } from './group-instance';

/** Props of a `FanOut`: the step each item runs, and the items. */
export interface FanOutProps<
  O extends Record<string, ArtifactType> = Record<never, never>,
  I extends Record<string, ArtifactType> = Record<string, ArtifactType>,
> extends Omit<ContainerStepProps<O, I>, 'fanOut' | 'fanOutParallelism'> {
  /**
   * What to fan out over: one instance per item, each getting exactly its item as
   * `MLOPS_ITEM` (the string, or an object as compact JSON), its position as
   * `MLOPS_ITEM_INDEX`, and for an object each top-level string, number or boolean as
   * `MLOPS_ITEM_<KEY>` (so `args: ['--region', '$(MLOPS_ITEM_REGION)']` needs no shell).
   * At least one, no duplicates, at most 1000, each at most 4096 bytes.
   */
  readonly items: readonly FanOutItem[];
  /**
   * At most this many instances run at once (the coordinator's per-group cap, plan column
   * 9), on top of the pipeline's `maxParallel`.
   * @default - all of them, within `maxParallel`
   */
  readonly parallelism?: number;
}

/**
 * A step run once per item of a static list, as Argo's `withItems` and KFP's
 * `dsl.ParallelFor`: one Job per item (retried on its own), released by the coordinator at
 * most `parallelism` at a time. Each output is collected: `fanOut.outputs.scores` is one
 * directory with a folder per item (`0/`, `1/`, ... in item order), and a step reading it
 * runs after every instance, as a fan-in.
 *
 * @example
 * const score = new FanOut(pipeline, 'score', {
 *   items: ['eu', 'us', 'apac'],
 *   parallelism: 2,
 *   command: ['python', '-m', 'score', '--region', '$(MLOPS_ITEM)'],
 *   outputs: { scores: Dataset },
 * });
 * new ContainerStep(pipeline, 'merge', { inputs: { scores: score.outputs.scores } });
 */
export class FanOut<
  O extends Record<string, ArtifactType> = Record<never, never>,
  I extends Record<string, ArtifactType> = Record<string, ArtifactType>,
> extends Construct {
  /** The instances, in item order: steps named `<fan-out>-<index>`. */
  public readonly instances: readonly GroupInstance<O, I>[];
  /** The items, as given. */
  public readonly items: readonly FanOutItem[];
  /** Each output of every instance: a folder per item under one directory. */
  public readonly outputs: { readonly [K in keyof O]: ItemOutputs };
  /** The group the coordinator caps as one. */
  public readonly group: StepGroup;

  public constructor(scope: Construct, id: string, props: FanOutProps<O, I>) {
    super(scope, id);
    const problem = itemsProblem(props.items, props.parallelism, 'a fan-out');
    if (problem) throw new Error(`[${this.node.path}] ${problem}`);
    const { items, parallelism, ...step } = props;
    this.items = [...items];
    this.group = new StepGroup(this, groupName(this), parallelism, 0);
    this.instances = items.map((item, i) => new GroupInstance<O, I>(this, String(i), step, this.group, i, itemEnv(item, i, 'MLOPS_ITEM_')));
    this.outputs = collectOutputs(this.instances[0]);
  }
}

/** One `ItemOutputs` per output the members declare. */
export function collectOutputs<O>(first: Step): { readonly [K in keyof O]: ItemOutputs } {
  const outputs: Record<string, ItemOutputs> = {};
  for (const name of Object.keys(first.outputs)) outputs[name] = new ItemOutputs(first, name);
  return outputs as { readonly [K in keyof O]: ItemOutputs };
}
