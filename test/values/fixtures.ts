import { App } from 'cdk8s';
import { BooleanValue, ContainerStep, Metrics, Model, NumberValue, Pipeline, StringValue, StructuredValue, TriggerRule } from '../../src';

export const image = 'ghcr.io/acme/churn:1.0.0';

/**
 * train (writes a model and four values) -> deploy when accuracy >= 0.8 (reads the model's
 * URL), retrain when accuracy < 0.8, then announce after either branch (none-failed).
 */
export function branchPipeline(app: App, trainOptions: { retries?: number } = {}) {
  const p = new Pipeline(app, 'branch', { namespace: 'ml', defaults: { image } });
  const train = new ContainerStep(p, 'train', {
    ...trainOptions,
    command: ['python', '-m', 'train'],
    outputs: { model: Model },
    values: { accuracy: NumberValue, url: StringValue, promoted: BooleanValue, report: StructuredValue },
  });
  const deploy = new ContainerStep(p, 'deploy', {
    args: ['--model-url', '$(MLOPS_VALUE_URL)'],
    inputs: { model: train.outputs.model },
    inputValueKinds: { url: StringValue },
    inputValues: { url: train.values.url },
    when: train.values.accuracy.atLeast(0.8),
  });
  const retrain = new ContainerStep(p, 'retrain', {
    outputs: { notes: Metrics },
    inputValues: { accuracy: train.values.accuracy },
    when: train.values.accuracy.lessThan(0.8),
  });
  const announce = new ContainerStep(p, 'announce', { after: [deploy, retrain], trigger: TriggerRule.NONE_FAILED });
  return { p, train, deploy, retrain, announce };
}
