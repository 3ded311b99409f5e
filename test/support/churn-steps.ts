import { ContainerStep, Dataset, Evaluate, EvaluateProps, FeatureEngineering, Pipeline, Train } from '../../src';

/**
 * The first four steps of the churn example, shared by the tests that build on them:
 * ingest -> features (80/20 split, seeded) -> train -> evaluate (AUC and log loss).
 * `evaluate` carries the gate's thresholds and anything else the caller's test needs.
 */
export function churnSteps(p: Pipeline, evaluate: Omit<EvaluateProps, 'model' | 'testData' | 'metrics'>) {
  const ingest = new ContainerStep(p, 'ingest', { outputs: { raw: Dataset } });
  const features = new FeatureEngineering(p, 'features', { datasets: { raw: ingest.outputs.raw }, split: { train: 0.8, test: 0.2, seed: 7 } });
  const train = new Train(p, 'train', { features: features.outputs.train });
  const evaluation = new Evaluate(p, 'evaluate', { model: train.outputs.model, testData: features.outputs.test, metrics: ['auc', 'logloss'], ...evaluate });
  return { ingest, features, train, evaluate: evaluation };
}
