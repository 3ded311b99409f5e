import type { Construct } from 'constructs';
import { Dataset, Features } from '../model/artifact';
import { BatchStep } from '../model/batch-step';
import type { StepOptions } from '../model/step-options';

/** How `FeatureEngineering` splits its rows into `train` and `test`. */
export interface SplitOptions {
  /** Share of rows for training, in (0, 1). */
  readonly train: number;
  /** Share of rows held out for evaluation, in (0, 1); train + test must be 1. */
  readonly test: number;
  /**
   * Seed of the shuffle, so that a re-run splits the same way.
   * @default 0
   */
  readonly seed?: number;
}

/** Props of a `FeatureEngineering` step. */
export interface FeatureEngineeringProps<S extends SplitOptions | undefined = undefined> extends StepOptions {
  /**
   * The datasets to read, by input name: each reaches the container as `MLOPS_INPUT_<NAME>`.
   * At least one.
   */
  readonly datasets: Record<string, Dataset>;
  /**
   * Split the features into `train` and `test` outputs (`MLOPS_OUTPUT_TRAIN`,
   * `MLOPS_OUTPUT_TEST`) instead of one `features` output. The fractions and seed reach the
   * container as `MLOPS_SPLIT_TRAIN`, `MLOPS_SPLIT_TEST` and `MLOPS_SPLIT_SEED`; the split
   * itself is the container's work.
   * @default - no split: one `features` output (`MLOPS_OUTPUT_FEATURES`)
   */
  readonly split?: S;
}

/** The outputs of a `FeatureEngineering` step: `train` and `test` with a split, else `features`. */
export type FeatureOutputs<S extends SplitOptions | undefined> = S extends SplitOptions
  ? { readonly train: Features; readonly test: Features }
  : { readonly features: Features };

/**
 * Turns one or more datasets into features, optionally split into train and test sets.
 *
 * @example
 * const features = new FeatureEngineering(pipeline, 'features', {
 *   image, datasets: { raw: ingest.outputs.dataset }, split: { train: 0.8, test: 0.2, seed: 7 },
 * });
 * features.outputs.train; // Features
 */
export class FeatureEngineering<S extends SplitOptions | undefined = undefined> extends BatchStep {
  public constructor(scope: Construct, id: string, props: FeatureEngineeringProps<S>) {
    super(scope, id, props);
    const datasets = Object.entries(props.datasets ?? {});
    if (datasets.length === 0) {
      throw new Error(`[${this.node.path}] 'datasets' is empty: pass at least one, e.g. { raw: ingest.outputs.dataset }`);
    }
    for (const [name, dataset] of datasets) this.addInput(name, dataset);
    const split = props.split;
    if (split) {
      const problem = splitProblem(split);
      if (problem) throw new Error(`[${this.node.path}] ${problem}`);
      this.addOutput('train', Features);
      this.addOutput('test', Features);
      this.addLibraryEnv('MLOPS_SPLIT_TRAIN', { value: String(split.train) });
      this.addLibraryEnv('MLOPS_SPLIT_TEST', { value: String(split.test) });
      this.addLibraryEnv('MLOPS_SPLIT_SEED', { value: String(split.seed ?? 0) });
    } else {
      this.addOutput('features', Features);
    }
  }

  public override get outputs(): FeatureOutputs<S> {
    return super.outputs as unknown as FeatureOutputs<S>;
  }
}

function splitProblem(split: SplitOptions): string | undefined {
  const shown = `train ${String(split.train)}, test ${String(split.test)}`;
  for (const [name, value] of [['train', split.train], ['test', split.test]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
      return `'split.${name}' must be a fraction between 0 and 1 (exclusive), got ${String(value)} (${shown}); `
        + 'give both sets some rows, e.g. { train: 0.8, test: 0.2 }';
    }
  }
  if (Math.abs(split.train + split.test - 1) > 1e-9) {
    return `'split' fractions must add up to 1, got ${shown} (sum ${split.train + split.test}); e.g. { train: 0.8, test: 0.2 }`;
  }
  if (split.seed !== undefined && (!Number.isInteger(split.seed) || split.seed < 0)) {
    return `'split.seed' must be a whole number of at least 0, got ${String(split.seed)}`;
  }
  return undefined;
}
