import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { ConcurrencyPolicy, Pipeline } from '../../src';
import { churnPipeline } from '../churn/pipeline';

/**
 * The churn pipeline retrained every night at 02:00 Berlin time, from the same YAML every
 * night: each run gets its own Jobs and folders, and
 * `kubectl create job --from=cronjob/churn-nightly <run>` starts one by hand. A night whose
 * model misses the AUC threshold ends "rejected", not failed.
 */
export function churnNightly(scope: Construct): Pipeline {
  return churnPipeline(scope, 'churn-nightly', {
    schedule: {
      cron: '0 2 * * *',
      timeZone: 'Europe/Berlin',
      // A retraining still going at 02:00 (a slow GPU night) finishes; that night is skipped.
      concurrency: ConcurrencyPolicy.FORBID,
      // Started late after a control-plane outage: still useful until 06:00.
      startingDeadline: Duration.hours(4),
      successfulRunsToKeep: 7,
      failedRunsToKeep: 3,
      keepArtifactsOfRuns: 14,
    },
  }).pipeline;
}
