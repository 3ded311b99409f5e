import { Duration } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ConcurrencyPolicy, ContainerStep, Dataset, Metrics, Model, Pipeline } from '../../src';

/**
 * Hourly batch scoring: fetch the last hour's customers, score them with the current
 * model, publish the scores. The model export is reused across runs while its step is
 * unchanged; fetching and scoring run every hour, in the run's own folder.
 */
export function hourlyScoring(scope: Construct): Pipeline {
  const pipeline = new Pipeline(scope, 'scoring', {
    namespace: 'ml-churn',
    defaults: { image: 'ghcr.io/acme-ml/churn:1.4.2' },
    runDeadline: Duration.minutes(50),
    schedule: {
      cron: '5 * * * *',
      timeZone: 'UTC',
      // A late hour is replaced by the next one: only fresh scores matter.
      concurrency: ConcurrencyPolicy.REPLACE,
      startingDeadline: Duration.minutes(10),
      successfulRunsToKeep: 3,
      failedRunsToKeep: 3,
      keepArtifactsOfRuns: 24,
    },
  });

  const exportModel = new ContainerStep(pipeline, 'export-model', {
    command: ['python', '-m', 'churn.export', '--model', 'churn:1.4.2'],
    outputs: { model: Model },
  });
  const fetch = new ContainerStep(pipeline, 'fetch', {
    command: ['python', '-m', 'churn.fetch_hour'],
    env: { SOURCE_URI: EnvValue.fromValue('s3://acme-datalake/churn/customers/') },
    outputs: { customers: Dataset },
  });
  const score = new ContainerStep(pipeline, 'score', {
    command: ['python', '-m', 'churn.score'],
    inputs: { model: exportModel.outputs.model, customers: fetch.outputs.customers },
    outputs: { scores: Dataset, stats: Metrics },
  });
  new ContainerStep(pipeline, 'publish', {
    command: ['python', '-m', 'churn.publish', '--table', 'churn_scores_hourly'],
    inputs: { scores: score.outputs.scores },
  });
  pipeline.reuseAcrossRuns(exportModel);
  return pipeline;
}
