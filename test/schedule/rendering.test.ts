import { Duration } from 'cdk8s';
import { ConcurrencyPolicy, ContainerStep, Dataset, Model, Pipeline } from '../../src';
import { verifyObjects } from '../../src/verify';
import { envOf, findOne, K8sObject, synth } from '../support/synth';

const image = 'busybox:1.36';

/** ingest -> train -> evaluate, scheduled nightly unless `props` say otherwise. */
function nightly(props: ConstructorParameters<typeof Pipeline>[2] = { schedule: { cron: '0 2 * * *', timeZone: 'Europe/Berlin' } }, reuseIngest = false) {
  return synth((app) => {
    const p = new Pipeline(app, 'nightly', { namespace: 'ml', defaults: { image }, ...props });
    const ingest = new ContainerStep(p, 'ingest', { outputs: { raw: Dataset } });
    const train = new ContainerStep(p, 'train', { inputs: { raw: ingest.outputs.raw }, outputs: { model: Model } });
    new ContainerStep(p, 'evaluate', { inputs: { model: train.outputs.model, raw: ingest.outputs.raw } });
    if (reuseIngest) p.reuseAcrossRuns(ingest);
  }).objects;
}

const coordinatorMap = (objects: K8sObject[]) => findOne(objects, 'ConfigMap');
const templates = (objects: K8sObject[]): { run: K8sObject[]; shared: K8sObject[] } => JSON.parse(coordinatorMap(objects).data.jobs);

/** A template as the prelude fills it in for run `run` (hash `h`). */
function filled(template: K8sObject, run: string, h: string): K8sObject {
  return JSON.parse(JSON.stringify(template).replace(/@@run-hash@@/g, h).replace(/@@run@@/g, run));
}

describe('a scheduled pipeline', () => {
  const objects = nightly();
  const cronJob = findOne(objects, 'CronJob');

  test('is one CronJob named after the pipeline, with the schedule and Kubernetes\' history defaults', () => {
    expect(cronJob.metadata.name).toBe('nightly');
    expect(cronJob.spec).toMatchObject({
      schedule: '0 2 * * *',
      timeZone: 'Europe/Berlin',
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    expect(cronJob.spec.suspend).toBeUndefined();
    expect(cronJob.spec.startingDeadlineSeconds).toBeUndefined();
  });

  test('applying it starts nothing: no step Job and no coordinator Job in the YAML', () => {
    expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
  });

  test('each run\'s coordinator runs the prelude and learns its run id and uid from its pod\'s labels', () => {
    const template = cronJob.spec.jobTemplate;
    expect(template.metadata.labels).toMatchObject({ 'mlops.cdk8s.io/pipeline': 'nightly', 'mlops.cdk8s.io/role': 'coordinator' });
    const container = template.spec.template.spec.containers[0];
    expect(container.command).toEqual(['/bin/bash', '/etc/mlops/start-run.sh']);
    const env = envOf(container);
    expect(env.MLOPS_SELF).toEqual({ fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } });
    expect(env.MLOPS_RUN_UID).toEqual({ fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/controller-uid\']' } });
    expect(env.MLOPS_RUN_TEMPLATES).toBe('/etc/mlops/jobs');
    expect(env.MLOPS_PLAN).toBe('/etc/mlops/plan');
    const cm = coordinatorMap(objects);
    expect(template.spec.template.spec.volumes).toContainEqual({ name: 'script', configMap: { name: cm.metadata.name } });
    expect(Object.keys(cm.data).sort()).toEqual(['coordinate.sh', 'jobs', 'plan', 'start-run.sh']);
  });

  test('the plan names each step\'s Job after the run, and the templates match the plan', () => {
    const plan = coordinatorMap(objects).data.plan;
    expect(plan).toBe([
      'ingest\tnightly-ingest-@@run-hash@@\t-',
      'train\tnightly-train-@@run-hash@@\tingest',
      'evaluate\tnightly-evaluate-@@run-hash@@\tingest,train',
      '',
    ].join('\n'));
    const { run, shared } = templates(objects);
    expect(shared).toEqual([]);
    expect(run.map((j) => j.metadata.name)).toEqual(['nightly-ingest-@@run-hash@@', 'nightly-train-@@run-hash@@', 'nightly-evaluate-@@run-hash@@']);
    expect(run.map((j) => j.spec.suspend)).toEqual([true, true, true]);
    expect(run[2].metadata.annotations).toEqual({ 'mlops.cdk8s.io/depends-on': 'ingest,train' });
  });

  test('artifacts of a run live under runs/<run>/ and steps know their run id', () => {
    const [ingest, train, evaluate] = templates(objects).run.map((j) => filled(j, 'nightly-29412345', 'abcd0123'));
    const env = (job: K8sObject) => envOf(job.spec.template.spec.containers[0]);
    expect(env(ingest).MLOPS_OUTPUT_RAW).toBe('/mnt/workspace/nightly/runs/nightly-29412345/ingest/raw');
    expect(ingest.spec.template.spec.initContainers[0].command).toEqual(['mkdir', '-p', '/mnt/workspace/nightly/runs/nightly-29412345/ingest/raw']);
    expect(env(train).MLOPS_INPUT_RAW).toBe('/mnt/workspace/nightly/runs/nightly-29412345/ingest/raw');
    expect(env(evaluate).MLOPS_INPUT_MODEL).toBe('/mnt/workspace/nightly/runs/nightly-29412345/train/model');
    expect(env(train).MLOPS_RUN).toBe('nightly-29412345');
    expect(train.metadata.name).toBe('nightly-train-abcd0123');
  });

  test('every object, and every Job of a run, validates against the strict 1.27 schema', () => {
    const run = 'nightly-29412345';
    const owner = { apiVersion: 'batch/v1', kind: 'Job', name: run, uid: '0b5a3c1e-0000-4000-8000-000000000001' };
    const stepJobs = templates(objects).run.map((j) => filled(j, run, 'abcd0123'))
      .map((j) => ({ ...j, metadata: { ...j.metadata, ownerReferences: [owner] } }));
    // The coordinator Job the CronJob makes from its template.
    const coordinator = {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: { ...cronJob.spec.jobTemplate.metadata, name: run, namespace: 'ml' },
      spec: cronJob.spec.jobTemplate.spec,
    };
    // The plan as the prelude fills it in.
    const planned = objects.map((o) => (o.kind === 'ConfigMap' ? filled(o, run, 'abcd0123') : o));
    const { problems } = verifyObjects([...planned, coordinator, ...stepJobs]);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  test('the coordinator may list, get, create and patch Jobs of its namespace: run names are made at run time', () => {
    expect(findOne(objects, 'Role').rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'get', 'create', 'patch'] }]);
    expect(objects.filter((o) => ['ClusterRole', 'ClusterRoleBinding'].includes(o.kind))).toEqual([]);
  });
});

describe('schedule settings reach the CronJob', () => {
  test('concurrency, starting deadline and history limits', () => {
    const cronJob = findOne(nightly({
      schedule: {
        cron: '@hourly', concurrency: ConcurrencyPolicy.REPLACE, startingDeadline: Duration.minutes(5),
        successfulRunsToKeep: 10, failedRunsToKeep: 2,
      },
    }), 'CronJob');
    expect(cronJob.spec).toMatchObject({
      schedule: '@hourly', concurrencyPolicy: 'Replace', startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 10, failedJobsHistoryLimit: 2,
    });
    expect(cronJob.spec.timeZone).toBeUndefined();
  });
});

describe('a pipeline run on demand only', () => {
  const objects = nightly({ onDemand: { successfulRunsToKeep: 5 } });

  test('gets a suspended CronJob as its run template, started with kubectl create job --from=cronjob/nightly', () => {
    const cronJob = findOne(objects, 'CronJob');
    expect(cronJob.metadata.name).toBe('nightly');
    expect(cronJob.spec.suspend).toBe(true);
    expect(cronJob.spec.successfulJobsHistoryLimit).toBe(5);
    expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0].command).toEqual(['/bin/bash', '/etc/mlops/start-run.sh']);
  });
});

describe('steps reused across runs', () => {
  const objects = nightly(undefined, true);

  test('keep their content-hash Job name and folder, outside any run, and downstream steps read from there', () => {
    const { run, shared } = templates(objects);
    expect(shared.map((j) => j.metadata.name)).toEqual([expect.stringMatching(/^nightly-ingest-[0-9a-f]{8}$/)]);
    const dir = `/mnt/workspace/nightly/ingest-${shared[0].metadata.name.slice(-8)}`;
    expect(envOf(shared[0].spec.template.spec.containers[0]).MLOPS_OUTPUT_RAW).toBe(`${dir}/raw`);
    expect(envOf(shared[0].spec.template.spec.containers[0]).MLOPS_RUN).toBeUndefined();
    expect(run.map((j) => j.metadata.name)).toEqual(['nightly-train-@@run-hash@@', 'nightly-evaluate-@@run-hash@@']);
    expect(envOf(run[0].spec.template.spec.containers[0]).MLOPS_INPUT_RAW).toBe(`${dir}/raw`);
    expect(coordinatorMap(objects).data.plan.split('\n')[0]).toBe(`ingest\t${shared[0].metadata.name}\t-`);
  });

  test('the same synth names a reused step the same, so the next run finds it complete', () => {
    expect(templates(nightly(undefined, true)).shared[0].metadata.name).toBe(templates(objects).shared[0].metadata.name);
  });
});

test('a pipeline without schedule or onDemand renders as before: no CronJob, and create is not granted', () => {
  const objects = nightly({});
  expect(objects.filter((o) => o.kind === 'CronJob')).toEqual([]);
  expect(findOne(objects, 'Role').rules.flatMap((r: K8sObject) => r.verbs)).not.toContain('create');
});
