import { App, Duration } from 'cdk8s';
import { ContainerStep, Dataset, Pipeline, PipelineProps } from '../../src';
import { expectSynthFailure as expectFailure, VALIDATION } from '../support/synth';

const image = 'busybox:1.36';

/** A one-step pipeline 'p' with these props. */
const pipeline = (props: PipelineProps, id = 'p') => (app: App) => {
  new ContainerStep(new Pipeline(app, id, { defaults: { image }, ...props }), 'train');
};

describe('bad schedules fail synthesis naming the construct, the value and the fix, and write nothing', () => {
  test('fails on a cron field out of range', () => {
    expectFailure(pipeline({ schedule: { cron: '0 45 * * *' } }),
      '[p] \'schedule.cron\' \'0 45 * * *\' is not a valid schedule: hour field \'45\' is out of range 0-23');
  });

  test('fails on a malformed cron field', () => {
    expectFailure(pipeline({ schedule: { cron: '0 2 * * mon-' } }),
      '[p] \'schedule.cron\' \'0 2 * * mon-\' is not a valid schedule: day-of-week field \'mon-\' has an empty value; write a number or a day name (sun-sat) from 0 to 6');
  });

  test('fails on a cron expression with the wrong number of fields', () => {
    expectFailure(pipeline({ schedule: { cron: '0 0 2 * * *' } }),
      '[p] \'schedule.cron\' \'0 0 2 * * *\' is not a valid schedule: it has 6 fields, Kubernetes expects 5 (minute hour day-of-month month day-of-week) or a descriptor such as @daily; e.g. \'0 2 * * *\' runs at 02:00 every day');
  });

  test('fails on a CRON_TZ= prefix, pointing to timeZone', () => {
    expectFailure(pipeline({ schedule: { cron: 'CRON_TZ=Europe/Berlin 0 2 * * *' } }),
      '[p] \'schedule.cron\' \'CRON_TZ=Europe/Berlin 0 2 * * *\' is not a valid schedule: the expression names a time zone (\'CRON_TZ=Europe/Berlin\'), which Kubernetes refuses; remove it and set timeZone: \'Europe/Berlin\' instead');
  });

  test('fails on an unknown time zone', () => {
    expectFailure(pipeline({ schedule: { cron: '@daily', timeZone: 'Europe/Atlantis' } }),
      '[p] \'schedule.timeZone\' \'Europe/Atlantis\' is not a valid time zone: it is not in the IANA time zone database; use a name such as \'Europe/Berlin\' or \'America/New_York\' (see https://www.iana.org/time-zones)');
  });

  test('fails on a starting deadline under 10 s', () => {
    expectFailure(pipeline({ schedule: { cron: '@hourly', startingDeadline: Duration.seconds(5) } }),
      '[p] \'schedule.startingDeadline\' is 5s, under 10s: the CronJob controller looks every 10s, so a run could be missed every time; set at least Duration.seconds(10), or leave it unset');
  });

  test('fails on a retention of 0 runs', () => {
    expectFailure(pipeline({ schedule: { cron: '@daily', keepArtifactsOfRuns: 0 } }),
      '[p] \'schedule.keepArtifactsOfRuns\' must be a whole number of at least 1, got 0: 0 would delete the folder of the run that just finished; keep at least 1, or leave it unset to keep every folder');
  });

  test('fails on a negative history limit', () => {
    expectFailure(pipeline({ onDemand: { successfulRunsToKeep: -1 } }),
      '[p] \'onDemand.successfulRunsToKeep\' must be a whole number of at least 0, got -1');
  });

  test('fails on a pipeline id too long to name its CronJob, saying by how much to shorten it', () => {
    const id = 'customer-churn-nightly-retraining-with-holdout-eval-v2';
    expectFailure(pipeline({ schedule: { cron: '@daily' } }, id),
      `${VALIDATION}[${id}] the pipeline id names its CronJob: the CronJob name '${id}' has 54 characters, more than 52 (its Jobs append '-<unix minutes>'); shorten it by 2\n`
      + `  [${id}/train] the Job name '${id}-train-12345678' derived from pipeline '${id}' and step 'train' has 69 characters, more than 63; shorten the pipeline or step id by 6`);
  });

  test('fails on schedule and onDemand together', () => {
    expectFailure(pipeline({ schedule: { cron: '@daily' }, onDemand: {} }),
      '[p] set either \'schedule\' or \'onDemand\', not both: a scheduled pipeline can also be run on demand');
  });

  test('fails on a runId for a pipeline whose runs get their own ids', () => {
    expectFailure(pipeline({ schedule: { cron: '@daily' }, runId: 'r1' }),
      '[p] \'runId\' \'r1\' does nothing for a pipeline with \'schedule\': every run gets its own id; remove runId');
  });

  test('fails on a step reused across runs whose upstream runs in every run', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image }, onDemand: {} });
      const ingest = new ContainerStep(p, 'ingest', { outputs: { raw: Dataset } });
      const features = new ContainerStep(p, 'features', { inputs: { raw: ingest.outputs.raw } });
      p.reuseAcrossRuns(features);
    }, `${VALIDATION}[p/features] step 'features' is reused across runs but its upstream 'ingest' runs in every run, so its input changes from run to run; pass ingest to reuseAcrossRuns() too, or do not reuse 'features'`);
  });

  test('fails on reuseAcrossRuns() in a pipeline without runs', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      p.reuseAcrossRuns(new ContainerStep(p, 'ingest'));
    }, '[p] reuseAcrossRuns() needs runs to reuse across; set \'schedule\' or \'onDemand\' on the pipeline');
  });
});

test('warns when failed runs are deleted at once and nothing else reports a failure', () => {
  const app = new App();
  const p = new Pipeline(app, 'p', { defaults: { image }, schedule: { cron: '@daily', failedRunsToKeep: 0 } });
  new ContainerStep(p, 'train');
  expect(p.warnings).toEqual(['\'failedRunsToKeep\' is 0: a failed run\'s Jobs, pods and logs are deleted as soon as it fails, and nothing '
    + 'else in the pipeline reports the failure; keep at least 1, or watch the CronJob\'s events '
    + '(kubectl get events --field-selector involvedObject.kind=CronJob)']);
  const kept = new Pipeline(app, 'q', { defaults: { image }, schedule: { cron: '@daily' } });
  new ContainerStep(kept, 'train');
  expect(kept.warnings).toEqual([]);
});

test('fails on a step named like the prune step of a pipeline that keeps N runs\' folders', () => {
  expectFailure((app) => {
    new ContainerStep(new Pipeline(app, 'p', { defaults: { image }, onDemand: { keepArtifactsOfRuns: 3 } }), 'prune-runs');
  }, `${VALIDATION}[p/prune-runs] step name 'prune-runs' is taken by the step that deletes old runs' folders ('keepArtifactsOfRuns'); rename the step`);
});

test('fails when the run templates would not fit in one ConfigMap', () => {
  expectFailure((app) => {
    const p = new Pipeline(app, 'wide', { defaults: { image }, onDemand: {} });
    for (let i = 0; i < 1000; i++) new ContainerStep(p, `s${i}`);
  }, `${VALIDATION}[wide] the coordinator ConfigMap holds the Job template of every step of a run: 1405 KiB for 1000 steps, more than the 1024 KiB Kubernetes allows in a ConfigMap; split the pipeline into smaller pipelines, or leave out 'schedule' and 'onDemand'`);
});
