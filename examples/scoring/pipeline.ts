import { Chart, Duration, Size } from 'cdk8s';
import { Cpu, EnvValue } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  Baseline, BatchData, BatchInference, ContainerStep, Dataset, Evaluate, FeatureEngineering, ModelRegistry, Pipeline, Promote, RegistryAccess,
  Threshold, ThresholdComparison, Train,
} from '../../src';

/**
 * Hourly batch scoring with the approved churn model. Every Monday a retraining run trains
 * a model and evaluates it against a minimum AUC and the version published last; only if the
 * gate approves does the library's `Promote` publish it into the model registry as the next
 * integer version (its `READY` file last). A rejected model never reaches `promote`, so it
 * is never published and never scored with. Every hour, at :05, a BatchInference scores the
 * last hour's customers with the registry's newest ready version, into a folder of its own
 * per scheduled hour.
 */
export function hourlyScoring(scope: Construct): { retrain: Pipeline; promote: Promote; scoring: Chart; scores: BatchInference } {
  const registry = ModelRegistry.fromClaimName('churn-models', { access: RegistryAccess.READ_WRITE_MANY });

  const retrain = new Pipeline(scope, 'churn-retrain', {
    namespace: 'ml-churn',
    defaults: { image: 'ghcr.io/acme-ml/churn:1.4.2' },
    runDeadline: Duration.hours(4),
    schedule: { cron: '0 3 * * 1', timeZone: 'UTC', startingDeadline: Duration.hours(2), keepArtifactsOfRuns: 4 },
  });
  const fetch = new ContainerStep(retrain, 'fetch', {
    command: ['python', '-m', 'churn.fetch', '--days', '90'],
    env: { SOURCE_URI: EnvValue.fromValue('s3://acme-datalake/churn/events/') },
    outputs: { events: Dataset },
  });
  const features = new FeatureEngineering(retrain, 'features', {
    command: ['python', '-m', 'churn.features'],
    datasets: { events: fetch.outputs.events },
    split: { train: 0.8, test: 0.2, seed: 7 },
  });
  const train = new Train(retrain, 'train', {
    command: ['python', '-m', 'churn.train'],
    features: features.outputs.train,
    hyperparameters: { learning_rate: 0.05, max_depth: 6 },
  });
  const evaluate = new Evaluate(retrain, 'evaluate', {
    command: ['python', '-m', 'churn.evaluate'],
    model: train.outputs.model,
    testData: features.outputs.test,
    metrics: ['auc'],
    // At least 0.8, and no more than 0.01 below the version published last (none before the first promotion).
    thresholds: [Threshold.atLeast('auc', 0.8), Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST, 0.01)],
    baseline: Baseline.fromRegistry(registry, 'churn'),
  });
  // Runs only on approval. The BatchInference reads the registry afresh every hour, so there
  // is no server to tell: the next hour scores with the new version.
  const promote = new Promote(retrain, 'promote', { model: evaluate.approvedModel, registry, modelName: 'churn' });

  const scoring = new Chart(scope, 'scoring', { namespace: 'ml-churn' });
  const scores = new BatchInference(scoring, 'churn-scores', {
    approvedModel: evaluate.approvedModel,
    registry,
    model: 'churn',
    schedule: {
      cron: '5 * * * *',
      timeZone: 'UTC',
      // An hour that cannot start within 10 minutes (the previous one still scoring) is skipped: only fresh scores matter.
      startingDeadline: Duration.minutes(10),
      successfulRunsToKeep: 3,
      failedRunsToKeep: 3,
    },
    image: 'ghcr.io/acme-ml/churn:1.4.2',
    command: ['python', '-m', 'churn.score'],
    input: BatchData.fromUri('s3://acme-datalake/churn/customers/last-hour/'),
    output: BatchData.fromClaim('churn-scores', 'hourly'),
    timeout: Duration.minutes(50),
    resources: {
      cpu: { request: Cpu.units(1), limit: Cpu.units(2) },
      memory: { request: Size.gibibytes(2), limit: Size.gibibytes(2) },
    },
  });
  return { retrain, promote, scoring, scores };
}
