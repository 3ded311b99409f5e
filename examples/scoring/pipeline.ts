import { Chart, Duration, Size } from 'cdk8s';
import { Cpu, EnvValue } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  BatchData, BatchInference, ContainerStep, Dataset, Evaluate, FeatureEngineering, ModelRegistry, Pipeline, RegistryAccess, StepVolume,
  Threshold, Train,
} from '../../src';

/**
 * Hourly batch scoring with the approved churn model. Every Monday a retraining run trains
 * a model and evaluates it against a minimum AUC; only if the gate approves does `publish`
 * write it into the model registry as a new version (its `READY` file last). Every hour, at
 * :05, a BatchInference scores the last hour's customers with the registry's newest ready
 * version, into a folder of its own per scheduled hour.
 */
export function hourlyScoring(scope: Construct): { retrain: Pipeline; scoring: Chart; scores: BatchInference } {
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
    thresholds: [Threshold.atLeast('auc', 0.8)],
  });
  // Runs only on approval: it reads the approved model. It writes <registry>/churn/<unix time>/
  // under a temporary name, renames it, then writes READY.
  new ContainerStep(retrain, 'publish', {
    command: ['python', '-m', 'churn.publish', '--registry', '/mnt/registry/churn'],
    inputs: { model: evaluate.approvedModel },
    volumes: [{ mountPath: '/mnt/registry', volume: StepVolume.fromClaimName('churn-models') }],
  });

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
  return { retrain, scoring, scores };
}
