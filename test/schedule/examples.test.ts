import { churnNightly } from '../../examples/nightly/pipeline';
import { hourlyScoring } from '../../examples/scoring/pipeline';
import { findOne, K8sObject, synth } from '../support/synth';

describe('the nightly retraining of the churn pipeline', () => {
  const { objects } = synth(churnNightly);
  // The gate's script has a ConfigMap of its own.
  const coordinatorConfigMap = () => findOne(objects, 'ConfigMap', (o) => o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator');

  test('runs at 02:00 Berlin time, never overlapping, and keeps two weeks of folders', () => {
    const cronJob = findOne(objects, 'CronJob');
    expect(cronJob.metadata).toMatchObject({ name: 'churn-nightly', namespace: 'ml-churn' });
    expect(cronJob.spec).toMatchObject({
      schedule: '0 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 14400,
      successfulJobsHistoryLimit: 7, failedJobsHistoryLimit: 3,
    });
    const plan = coordinatorConfigMap().data.plan as string;
    expect(plan.split('\n').map((l) => l.split('\t')[0])).toEqual(['ingest', 'profile', 'features', 'train', 'evaluate', 'evaluate-gate', 'prune-runs', '']);
    expect(plan).toContain('evaluate-gate\tchurn-nightly-evaluate-gate-@@run-hash@@\tevaluate\tall-succeeded\tgate\n');
    expect(plan).toContain('prune-runs\tchurn-nightly-prune-runs-@@run-hash@@\tevaluate-gate,profile\n');
  });

  test('every step runs in every run, in the run\'s own folder', () => {
    const { run, shared } = JSON.parse(coordinatorConfigMap().data.jobs);
    expect(shared).toEqual([]);
    const train = run.find((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'] === 'train');
    expect(train.spec.template.spec.containers[0].env).toContainEqual({ name: 'MLOPS_OUTPUT_MODEL', value: '/mnt/workspace/churn-nightly/runs/@@run@@/train/model' });
  });
});

describe('the hourly scoring run', () => {
  const { objects } = synth(hourlyScoring);

  test('replaces a late hour with the next one', () => {
    expect(findOne(objects, 'CronJob').spec).toMatchObject({ schedule: '5 * * * *', timeZone: 'UTC', concurrencyPolicy: 'Replace', startingDeadlineSeconds: 600 });
  });

  test('reuses the model export across runs; fetch, score and publish run every hour', () => {
    const { run, shared } = JSON.parse(findOne(objects, 'ConfigMap').data.jobs);
    expect(shared.map((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'])).toEqual(['export-model']);
    expect(run.map((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'])).toEqual(['fetch', 'score', 'publish', 'prune-runs']);
    const score = run[1].spec.template.spec.containers[0].env;
    expect(score).toContainEqual({ name: 'MLOPS_INPUT_MODEL', value: `/mnt/workspace/scoring/export-model-${shared[0].metadata.name.slice(-8)}/model` });
    expect(score).toContainEqual({ name: 'MLOPS_INPUT_CUSTOMERS', value: '/mnt/workspace/scoring/runs/@@run@@/fetch/customers' });
  });
});
