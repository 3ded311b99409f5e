import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { churnNightly } from '../../examples/nightly/pipeline';
import { hourlyScoring } from '../../examples/scoring/pipeline';
import { verifyObjects } from '../../src/verify';
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

describe('hourly batch scoring with the approved model', () => {
  const { objects } = synth(hourlyScoring);
  const retrain = objects.filter((o) => o.metadata.labels?.['mlops.cdk8s.io/pipeline'] === 'churn-retrain');
  const scoring = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'batch-inference');

  test('retrains every Monday; the library\'s Promote runs only after the gate approved, and each run grants its own gate', () => {
    expect(findOne(retrain, 'CronJob').spec).toMatchObject({ schedule: '0 3 * * 1', timeZone: 'UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 7200 });
    const cm = findOne(retrain, 'ConfigMap', (o) => o.data?.jobs !== undefined);
    expect(cm.data.plan).toContain('promote\tchurn-retrain-promote-@@run-hash@@\tevaluate,evaluate-gate\n');
    const { run, grants } = JSON.parse(cm.data.jobs);
    const jobOf = (step: string) => run.find((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'] === step).spec.template.spec;
    const promote = jobOf('promote');
    expect(promote.volumes).toContainEqual({ name: 'volume-0', persistentVolumeClaim: { claimName: 'churn-models' } });
    expect(promote.containers[0].command).toEqual(['/bin/bash', '/etc/mlops/promote.sh']);
    expect(promote.containers[0].env).toContainEqual({ name: 'MLOPS_REGISTRY_MODEL', value: '/mnt/registry/churn' });
    // Nothing to restart: the BatchInference reads the registry afresh each hour, so the promotion needs no API access.
    expect(promote.serviceAccountName).toBeUndefined();
    expect(promote.containers[0].env.map((e: { name: string }) => e.name)).not.toContain('MLOPS_PROMOTION_HOOKS');
    expect(retrain.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind) && o.metadata.name === 'churn-retrain-promote')).toEqual([]);
    // The gate compares with the version published last, in the registry the promotion writes and the scoring reads.
    expect(jobOf('evaluate-gate').containers[0].env).toContainEqual({ name: 'MLOPS_GATE_BASELINE_REGISTRY', value: '/mnt/baseline/churn' });
    expect(grants.map((g: K8sObject) => `${g.kind}/${g.metadata.name}`)).toEqual(['Role/churn-retrain-reporter-@@run-hash@@', 'RoleBinding/churn-retrain-reporter-@@run-hash@@']);
    expect(grants[0].rules[0].resourceNames).toEqual(['churn-retrain-evaluate-gate-@@run-hash@@']);
  });

  test('scores every hour at :05 with the registry\'s newest ready version, into a folder per scheduled hour', () => {
    expect(scoring.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ConfigMap/churn-scores-pick-version', 'CronJob/churn-scores']);
    const cronJob = findOne(scoring, 'CronJob');
    expect(cronJob.metadata.namespace).toBe('ml-churn');
    expect(cronJob.spec).toMatchObject({ schedule: '5 * * * *', timeZone: 'UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 600, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'registry', persistentVolumeClaim: { claimName: 'churn-models', readOnly: true } });
    expect(pod.containers[0].env).toEqual(expect.arrayContaining([
      { name: 'INPUT_URI', value: 's3://acme-datalake/churn/customers/last-hour' },
      { name: 'OUTPUT_PATH', value: '/mnt/claims/churn-scores/hourly/$(MLOPS_RUN)' },
    ]));
    expect(cronJob.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(3000);
  });

  test('every object verifies against the strict 1.27 schema', () => {
    expect(verifyObjects(objects).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  test('the README draws the retraining exactly as the model does', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Hourly batch scoring with the approved model'));
    const drawn = /```mermaid\n([\s\S]*?)```/.exec(section)![1];
    expect(drawn).toBe(hourlyScoring(Testing.app()).retrain.toMermaid());
  });
});
