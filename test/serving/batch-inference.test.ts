import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart, Duration } from 'cdk8s';
import {
  BatchData, BatchInference, BatchInferenceProps, ConcurrencyPolicy, ContainerStep, Evaluate, Features, ModelRegistry, Pipeline,
  RegistryAccess, Threshold, Train,
} from '../../src';
import { verifyObjects } from '../../src/verify';
import { envOf, expectSynthFailure, findOne, K8sObject, synth } from '../support/synth';

const registry = ModelRegistry.fromClaimName('model-registry', { access: RegistryAccess.READ_WRITE_MANY });

/** A gated churn pipeline and, in its own chart, a batch inference on its approved model. */
function scoring(app: App, props: Partial<BatchInferenceProps> = {}, id = 'churn-hourly') {
  const p = new Pipeline(app, 'churn', { namespace: 'ml', defaults: { image: 'ghcr.io/acme/churn:1.4.2' } });
  const features = new ContainerStep(p, 'features', { outputs: { features: Features } });
  const train = new Train(p, 'train', { features: features.outputs.features });
  const evaluate = new Evaluate(p, 'evaluate', { model: train.outputs.model, testData: features.outputs.features, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)] });
  const chart = new Chart(app, 'scoring', { namespace: 'ml' });
  new BatchInference(chart, id, {
    approvedModel: evaluate.approvedModel,
    registry,
    model: 'churn',
    schedule: { cron: '5 * * * *', timeZone: 'Europe/Berlin', startingDeadline: Duration.minutes(10) },
    image: 'ghcr.io/acme/churn:1.4.2',
    command: ['python', '-m', 'churn.score'],
    input: BatchData.fromClaim('lake', 'customers/latest'),
    output: BatchData.fromClaim('scores', 'churn'),
    ...props,
  });
  return { train, evaluate, chart };
}

function objectsOf(props: Partial<BatchInferenceProps> = {}): K8sObject[] {
  return synth((app) => scoring(app, props)).objects.filter((o) => !o.metadata.labels?.['mlops.cdk8s.io/pipeline']);
}

const podOf = (objects: K8sObject[]) => findOne(objects, 'CronJob').spec.jobTemplate.spec.template.spec;

describe('BatchInference', () => {
  const objects = objectsOf();
  const cronJob = findOne(objects, 'CronJob');
  const pod = podOf(objects);

  test('is a CronJob and the ConfigMap of its version script, valid against the strict 1.27 schema and verify', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['ConfigMap/churn-hourly-pick-version', 'CronJob/churn-hourly']);
    expect(verifyObjects(objects).problems).toEqual([]);
    expect(cronJob.spec).toMatchObject({
      schedule: '5 * * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1,
    });
    // The claims it reads and writes are the user's; verify must not call them dangling.
    expect(cronJob.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('persistentvolumeclaim/lake,persistentvolumeclaim/model-registry,persistentvolumeclaim/scores');
  });

  test('every container is restricted, with requests and limits; no service account token', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' },
    });
    const containers = [...pod.initContainers, ...pod.containers];
    expect(containers.map((c: K8sObject) => c.name)).toEqual(['pick-version', 'prepare-output', 'score']);
    for (const c of containers) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
      expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'memory']);
    }
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
  });

  test('the scoring container gets the model, its version, the input and a folder of its own run', () => {
    const [score] = pod.containers;
    expect(score.image).toBe('ghcr.io/acme/churn:1.4.2');
    expect(score.command).toEqual(['python', '-m', 'churn.score']);
    expect(envOf(score)).toEqual({
      MLOPS_RUN: { fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } },
      MODEL_NAME: 'churn',
      MODEL_BASE_PATH: '/models/churn',
      MODEL_PATH: '/run/mlops/model',
      MODEL_VERSION_FILE: '/run/mlops/version',
      INPUT_PATH: '/mnt/claims/lake/customers/latest',
      // The Job's name is <cronjob>-<unix minutes of the scheduled time>: one folder per scheduled time.
      OUTPUT_PATH: '/mnt/claims/scores/churn/$(MLOPS_RUN)',
      HOME: '/tmp',
    });
    expect(score.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'registry', mountPath: '/models', readOnly: true },
      { name: 'current', mountPath: '/run/mlops', readOnly: true },
      { name: 'claim-lake', mountPath: '/mnt/claims/lake', readOnly: true },
      { name: 'claim-scores', mountPath: '/mnt/claims/scores' },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'registry', persistentVolumeClaim: { claimName: 'model-registry', readOnly: true } });
    expect(pod.volumes).toContainEqual({ name: 'claim-lake', persistentVolumeClaim: { claimName: 'lake', readOnly: true } });
    const prepare = pod.initContainers[1];
    expect(prepare.command).toEqual(['mkdir', '-p', '/mnt/claims/scores/churn/$(MLOPS_RUN)']);
    expect(prepare.volumeMounts).toEqual([{ name: 'claim-scores', mountPath: '/mnt/claims/scores' }]);
  });

  test('the version is picked by the script from the ConfigMap; no ready version fails the run at once, not retried', () => {
    const [pick] = pod.initContainers;
    expect(pick.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(pick.command).toEqual(['/bin/bash', '/etc/mlops/pick-version.sh', '/models/churn', '', '/run/mlops/model', 'fail']);
    expect(pick.volumeMounts).toContainEqual({ name: 'script', mountPath: '/etc/mlops', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'script', configMap: { name: 'churn-hourly-pick-version' } });
    const job = cronJob.spec.jobTemplate.spec;
    expect(job.podFailurePolicy.rules[0]).toEqual({ action: 'FailJob', onExitCodes: { containerName: 'pick-version', operator: 'In', values: [3] }, onPodConditions: [] });
    expect(job.backoffLimit).toBe(2);
    expect(job.activeDeadlineSeconds).toBe(3600);
  });

  test('a pinned version (the rollback) is the only one the script accepts', () => {
    expect(podOf(objectsOf({ version: 12 })).initContainers[0].command.slice(2)).toEqual(['/models/churn', '12', '/run/mlops/model', 'fail']);
  });

  test('object-store input and output are passed as URIs, the output with the run\'s own prefix', () => {
    const uri = podOf(objectsOf({ input: BatchData.fromUri('s3://acme-lake/customers/'), output: BatchData.fromUri('s3://acme-scores/churn') }));
    expect(envOf(uri.containers[0])).toMatchObject({ INPUT_URI: 's3://acme-lake/customers', OUTPUT_URI: 's3://acme-scores/churn/$(MLOPS_RUN)' });
    expect(uri.initContainers.map((c: K8sObject) => c.name)).toEqual(['pick-version']);
    expect(uri.volumes.map((v: K8sObject) => v.name)).toEqual(['tmp', 'registry', 'current', 'script']);
  });

  test('concurrency, history and a larger budget as asked', () => {
    const spec = findOne(objectsOf({
      schedule: { cron: '@hourly', concurrency: ConcurrencyPolicy.REPLACE, successfulRunsToKeep: 24, failedRunsToKeep: 5 },
      retries: 0, timeout: Duration.minutes(50),
    }), 'CronJob').spec;
    expect(spec).toMatchObject({ schedule: '@hourly', concurrencyPolicy: 'Replace', successfulJobsHistoryLimit: 24, failedJobsHistoryLimit: 5 });
    expect(spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 3000 });
  });
});

describe('the version script, as synthesized, in bash against a sandbox registry', () => {
  const script = findOne(objectsOf(), 'ConfigMap').data['pick-version.sh'];
  function registryWith(versions: Record<string, boolean>): { models: string; run: (pinned?: string) => ReturnType<typeof spawnSync> & { link: string } } {
    const root = mkdtempSync(join(tmpdir(), 'mlops-registry-'));
    const models = join(root, 'models', 'churn');
    mkdirSync(models, { recursive: true });
    for (const [v, ready] of Object.entries(versions)) {
      mkdirSync(join(models, v));
      if (ready) writeFileSync(join(models, v, 'READY'), '');
    }
    const current = join(root, 'run', 'mlops');
    mkdirSync(current, { recursive: true });
    writeFileSync(join(root, 'pick-version.sh'), script);
    const link = join(current, 'model');
    return {
      models,
      run: (pinned = '') => ({ ...spawnSync('bash', [join(root, 'pick-version.sh'), models, pinned, link, 'fail'], { encoding: 'utf8', timeout: 5000 }), link }),
    };
  }

  test('the newest version with READY is linked and its number written; an incomplete newer one and other folders are passed over', () => {
    const { models, run } = registryWith({ 7: true, 12: true, 99: false, '.tmp-100': true, latest: true });
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`serving version 12 of ${models}\n`);
    expect(readlinkSync(r.link)).toBe(join(models, '12'));
    expect(readFileSync(join(r.link, '..', 'version'), 'utf8')).toBe('12\n');
  });

  test('no version at all: exit 3 at once with the reason', () => {
    const { models, run } = registryWith({});
    const r = run();
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`no ready version of any number under ${models}: nothing to load; publish an approved version, or pin one that is ready\n`);
  });

  test('only incomplete versions: exit 3 naming them', () => {
    const { models, run } = registryWith({ 3: false });
    const r = run();
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`no ready version of any number under ${models} (without READY, still being written: 3): nothing to load; publish an approved version, or pin one that is ready\n`);
  });

  test('a pinned version is used even when a newer one is ready; a pinned one not ready fails', () => {
    const { models, run } = registryWith({ 7: true, 12: true, 13: false });
    expect(run('7').stdout).toBe(`serving version 7 of ${models}\n`);
    const r = run('13');
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`no ready version 13 under ${models} (without READY, still being written: 13): nothing to load; publish an approved version, or pin one that is ready\n`);
  });
});

describe('BatchInference on a ReadWriteOnce registry', () => {
  /** What synthesizing the scoring with `access` prints on stderr. */
  function warningsWith(access: RegistryAccess): string[] {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => { writes.push(String(chunk)); return true; });
    try {
      synth((app) => scoring(app, { registry: ModelRegistry.fromClaimName('models-rwo', { access }) }));
    } finally {
      spy.mockRestore();
    }
    return writes;
  }

  test('is a warning at synth, once: a run\'s pod may land on a node other than the one holding the volume', () => {
    expect(warningsWith(RegistryAccess.READ_WRITE_ONCE)).toEqual([
      '[scoring/churn-hourly] warning: registry claim \'models-rwo\' is ReadWriteOnce and each run\'s pod may land on any node: '
      + 'while another node holds the volume (the model server\'s replicas, a promotion) the run waits in ContainerCreating '
      + '(Multi-Attach error) until its timeout stops it; use a ReadWriteMany or ReadOnlyMany claim of the registry\n',
    ]);
  });

  test('a ReadWriteMany or ReadOnlyMany registry is not', () => {
    expect(warningsWith(RegistryAccess.READ_WRITE_MANY)).toEqual([]);
    expect(warningsWith(RegistryAccess.READ_ONLY_MANY)).toEqual([]);
  });
});

describe('BatchInference bad input: the construct path, the value, the fix; nothing written', () => {
  test('a cron field out of range names the field', () => {
    expectSynthFailure((app) => scoring(app, { schedule: { cron: '0 45 * * *' } }),
      '[scoring/churn-hourly] \'schedule.cron\' \'0 45 * * *\' is not a valid schedule: hour field \'45\' is out of range 0-23');
  });

  test('a starting deadline under 10 s', () => {
    expectSynthFailure((app) => scoring(app, { schedule: { cron: '5 * * * *', startingDeadline: Duration.seconds(5) } }),
      '[scoring/churn-hourly] \'schedule.startingDeadline\' is 5s, under 10s: the CronJob controller looks every 10s, so a run could be missed '
      + 'every time; set at least Duration.seconds(10), or leave it unset');
  });

  test('a name over the 52 characters of a CronJob', () => {
    const id = 'churn-hourly-scoring-of-every-customer-with-the-model';
    expectSynthFailure((app) => scoring(app, {}, id),
      `[scoring/${id}] name '${id}' cannot name a CronJob: the CronJob name '${id}' has 53 characters, more than 52 (its Jobs append `
      + '\'-<unix minutes>\'); shorten it by 1; set \'name\', or use a shorter construct id');
  });

  test('a model that is not approved does not compile, and fails at synth from JavaScript', () => {
    expectSynthFailure((app) => {
      const { train, chart } = scoring(app, {}, 'approved');
      // @ts-expect-error a Model straight from training is not an ApprovedModel
      new BatchInference(chart, 'unapproved', { ...minimal(), approvedModel: train.outputs.model });
    }, '[scoring/unapproved] \'approvedModel\' is churn/train.model, a Model, not an ApprovedModel: batch inference scores only with '
      + 'versions a gate approved; pass evaluate.approvedModel');
  });
});

function minimal(): Omit<BatchInferenceProps, 'approvedModel'> {
  return {
    registry, model: 'churn', schedule: { cron: '5 * * * *' }, image: 'ghcr.io/acme/churn:1.4.2',
    input: BatchData.fromClaim('lake', 'customers'), output: BatchData.fromClaim('scores', 'churn'),
  };
}
