import { App } from 'cdk8s';
import { Baseline, ContainerStep, Pipeline, Threshold, ThresholdComparison } from '../../src';
import { churnSteps } from '../support/churn-steps';

const image = 'ghcr.io/acme/churn:1.0.0';

/** ingest -> features (split) -> train -> evaluate (+ gate) -> deploy (reads the approved model). */
export function gatedPipeline(app: App, baseline = false) {
  const p = new Pipeline(app, 'churn', { namespace: 'ml', defaults: { image } });
  const { ingest, features, train, evaluate } = churnSteps(p, {
    thresholds: [Threshold.atLeast('auc', 0.8), Threshold.atMost('logloss', 0.5), Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST, 0.01)],
    baseline: baseline ? Baseline.fromMetricsFile('model-registry', 'churn/current/metrics.json') : undefined,
    retries: 2,
  });
  const deploy = new ContainerStep(p, 'deploy', { inputs: { model: evaluate.approvedModel } });
  return { p, ingest, features, train, evaluate, deploy };
}

