import type { Construct } from 'constructs';
import { Features, Model } from '../model/artifact';
import { BatchStep } from '../model/batch-step';
import type { StepOptions } from '../model/step-options';

/** What Kubernetes accepts as an env var name (validation.IsEnvVarName). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Props of a `Train` step. */
export interface TrainProps extends StepOptions {
  /** Training features (a split's `train`); reach the container as `MLOPS_INPUT_FEATURES`. */
  readonly features: Features;
  /**
   * Hyperparameters, by name. Each reaches the container as `MLOPS_HP_<NAME>` (the name in
   * upper case; strings as given, numbers and booleans as JSON), and all of them together
   * as one JSON object in `MLOPS_HYPERPARAMETERS`.
   * @default - none
   */
  readonly hyperparameters?: Record<string, number | string | boolean>;
}

/**
 * Trains a model: `Features` in, `Model` out (`MLOPS_OUTPUT_MODEL`). Every container
 * option applies (GPU, node selection, retries, timeout, ...).
 *
 * @example
 * const train = new Train(pipeline, 'train', {
 *   image, features: features.outputs.train, gpu: Gpu.nvidia(1),
 *   hyperparameters: { learning_rate: 0.05, max_depth: 6 },
 * });
 */
export class Train extends BatchStep {
  public constructor(scope: Construct, id: string, props: TrainProps) {
    super(scope, id, props);
    this.addInput('features', props.features);
    this.addOutput('model', Model);
    const hp = props.hyperparameters ?? {};
    const seen = new Map<string, string>();
    for (const [name, value] of Object.entries(hp)) {
      const env = `MLOPS_HP_${name.toUpperCase()}`;
      if (!ENV_NAME.test(name)) {
        throw new Error(`[${this.node.path}] hyperparameter name '${name}' cannot be part of an env var name (${env}); `
          + 'use letters, digits, \'_\', \'-\' or \'.\'');
      }
      const clash = seen.get(env);
      if (clash !== undefined) {
        throw new Error(`[${this.node.path}] hyperparameters '${clash}' and '${name}' would both be ${env}; rename one`);
      }
      seen.set(env, name);
      const ok = typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
      if (!ok) {
        throw new Error(`[${this.node.path}] hyperparameter '${name}' is ${String(value)}; give a finite number, a string or a boolean`);
      }
      this.addLibraryEnv(env, { value: typeof value === 'string' ? value : JSON.stringify(value) });
    }
    if (seen.size > 0) this.addLibraryEnv('MLOPS_HYPERPARAMETERS', { value: JSON.stringify(hp) });
  }

  /** `model`: the directory the container writes the model into. */
  public override get outputs(): { readonly model: Model } {
    return super.outputs as { model: Model };
  }
}
