import { App } from 'cdk8s';
import { Baseline, ContainerStep, Dataset, Evaluate, FeatureEngineering, Pipeline, Threshold, ThresholdComparison, Train } from '../../src';

const image = 'ghcr.io/acme/churn:1.0.0';

/** ingest -> features (split) -> train -> evaluate (+ gate) -> deploy (reads the approved model). */
export function gatedPipeline(app: App, baseline = false) {
  const p = new Pipeline(app, 'churn', { namespace: 'ml', defaults: { image } });
  const ingest = new ContainerStep(p, 'ingest', { outputs: { raw: Dataset } });
  const features = new FeatureEngineering(p, 'features', { datasets: { raw: ingest.outputs.raw }, split: { train: 0.8, test: 0.2, seed: 7 } });
  const train = new Train(p, 'train', { features: features.outputs.train });
  const evaluate = new Evaluate(p, 'evaluate', {
    model: train.outputs.model,
    testData: features.outputs.test,
    metrics: ['auc', 'logloss'],
    thresholds: [Threshold.atLeast('auc', 0.8), Threshold.atMost('logloss', 0.5), Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST, 0.01)],
    baseline: baseline ? Baseline.fromMetricsFile('model-registry', 'churn/current/metrics.json') : undefined,
    retries: 2,
  });
  const deploy = new ContainerStep(p, 'deploy', { inputs: { model: evaluate.approvedModel } });
  return { p, ingest, features, train, evaluate, deploy };
}

