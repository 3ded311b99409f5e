import type { Construct } from 'constructs';
import { ApprovedModel, Features, Metrics, Model } from '../model/artifact';
import type { IBaselineSource } from '../model/baseline';
import { BatchStep } from '../model/batch-step';
import { Gate } from '../model/gate';
import type { StepOptions } from '../model/step-options';
import type { Threshold } from '../model/threshold';

/** What a metric name may be: a key of metrics.json that reads well in a verdict. */
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Props of an `Evaluate` step. */
export interface EvaluateProps extends StepOptions {
  /** The trained model; reaches the container as `MLOPS_INPUT_MODEL`. */
  readonly model: Model;
  /** Held-out features (a split's `test`); reach the container as `MLOPS_INPUT_TEST`. */
  readonly testData: Features;
  /**
   * The metric names the container writes into `$MLOPS_OUTPUT_METRICS/metrics.json`, a JSON
   * object of names to numbers (`{"auc": 0.83, "logloss": 0.41}`). Listed in `MLOPS_METRICS`.
   */
  readonly metrics: string[];
  /**
   * What the model must meet to be approved; at least one absolute threshold.
   * E.g. `[Threshold.atLeast('auc', 0.8)]`.
   */
  readonly thresholds: Threshold[];
  /**
   * The metrics of the model to compare with, for `Threshold.noWorseThanBaseline`.
   * @default - no baseline: only absolute thresholds apply
   */
  readonly baseline?: IBaselineSource;
}

/**
 * Evaluates a model on held-out data and gates it: the container writes metrics, and a
 * gate (a library Job, child `gate`) approves the model or rejects it. Only
 * `approvedModel` reaches promotion and serving, so deploying an unevaluated model does
 * not compile. A rejection skips what needs the approved model and ends the run "rejected";
 * a crash of the evaluation is a failure, retried as `retries` says.
 *
 * @example
 * const evaluate = new Evaluate(pipeline, 'evaluate', {
 *   image, model: train.outputs.model, testData: features.outputs.test,
 *   metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)],
 * });
 */
export class Evaluate extends BatchStep {
  /** The gate that judges this evaluation's metrics. */
  public readonly gate: Gate;
  /** The model, once the gate approved it. */
  public readonly approvedModel: ApprovedModel;

  public constructor(scope: Construct, id: string, props: EvaluateProps) {
    super(scope, id, props);
    const names = props.metrics ?? [];
    if (names.length === 0) throw new Error(`[${this.node.path}] 'metrics' is empty: list the metric names the evaluation writes, e.g. ['auc']`);
    for (const name of names) {
      if (!METRIC_NAME.test(name)) {
        throw new Error(`[${this.node.path}] metric name '${name}' is invalid: use letters, digits, '_', '.' or '-', starting with a letter or '_'`);
      }
    }
    this.addInput('model', props.model);
    this.addInput('test', props.testData);
    this.addOutput('metrics', Metrics);
    this.addLibraryEnv('MLOPS_METRICS', { value: names.join(',') });
    this.gate = new Gate(this, 'gate', {
      metrics: this.outputs.metrics,
      model: props.model,
      declaredMetrics: names,
      thresholds: props.thresholds ?? [],
      baseline: props.baseline,
    });
    this.approvedModel = this.gate.approvedModel;
  }

  /** `metrics`: the directory holding metrics.json. */
  public override get outputs(): { readonly metrics: Metrics } {
    return super.outputs as { metrics: Metrics };
  }
}
