import { churnPipeline } from '../../examples/churn/pipeline';
import { envOf, findOne, stepJobs, synth } from '../support/synth';

const { objects } = synth(churnPipeline);
const jobs = stepJobs(objects);
const dependsOn = (step: string) => jobs[step].metadata.annotations?.['mlops.cdk8s.io/depends-on'] ?? '';

describe('the churn example', () => {
  test('has one suspended Job per step, and the coordinator last', () => {
    expect(Object.keys(jobs)).toEqual(['ingest', 'profile', 'features', 'train', 'evaluate']);
    for (const job of Object.values(jobs)) expect(job.spec.suspend).toBe(true);
    const kinds = objects.map((o) => o.kind);
    expect(kinds.lastIndexOf('Job')).toBe(objects.findIndex((o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator' && o.kind === 'Job'));
    expect(kinds.indexOf('PersistentVolumeClaim')).toBeLessThan(kinds.indexOf('Job'));
  });

  test('orders steps by the artifacts they read', () => {
    expect(dependsOn('ingest')).toBe('');
    expect(dependsOn('profile')).toBe('ingest');
    expect(dependsOn('features')).toBe('ingest');
    expect(dependsOn('train')).toBe('features');
    expect(dependsOn('evaluate')).toBe('features,profile,train');
  });

  test('the coordinator plan names the same Jobs and edges as the Jobs themselves', () => {
    const configMap = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator');
    const lines = configMap.data.plan.trim().split('\n').map((l: string) => l.split('\t'));
    expect(lines).toEqual(Object.entries(jobs).map(([step, job]) => [step, job.metadata.name, dependsOn(step) || '-']));
  });

  test('hands each consumer the producer\'s artifact location', () => {
    const container = (step: string) => jobs[step].spec.template.spec.containers[0];
    const ingestOut = envOf(container('ingest')).MLOPS_OUTPUT_RAW;
    // <mount>/<pipeline>/<step>-<the step's hash, the one its Job name ends with>/<artifact>
    const hashOf = (step: string) => jobs[step].metadata.name.split('-').pop();
    expect(ingestOut).toBe(`/mnt/workspace/churn/ingest-${hashOf('ingest')}/raw`);
    expect(envOf(container('features')).MLOPS_INPUT_RAW).toBe(ingestOut);
    expect(envOf(container('profile')).MLOPS_INPUT_RAW).toBe(ingestOut);
    expect(envOf(container('evaluate'))).toMatchObject({
      MLOPS_INPUT_MODEL: envOf(container('train')).MLOPS_OUTPUT_MODEL,
      MLOPS_INPUT_FEATURES: envOf(container('features')).MLOPS_OUTPUT_FEATURES,
      MLOPS_INPUT_PROFILE: envOf(container('profile')).MLOPS_OUTPUT_PROFILE,
    });
    // The init container creates exactly the step's output directories.
    expect(jobs.train.spec.template.spec.initContainers[0].command).toEqual(['mkdir', '-p', `/mnt/workspace/churn/train-${hashOf('train')}/model`]);
    const mount = container('train').volumeMounts.find((m: any) => m.name === 'workspace');
    expect(mount.mountPath).toBe('/mnt/workspace');
    const claim = jobs.train.spec.template.spec.volumes.find((v: any) => v.name === 'workspace').persistentVolumeClaim.claimName;
    expect(findOne(objects, 'PersistentVolumeClaim').metadata.name).toBe(claim);
  });

  test('credentials reach the ingest step by Secret reference only', () => {
    const env = envOf(jobs.ingest.spec.template.spec.containers[0]);
    expect(env.AWS_ACCESS_KEY_ID).toEqual({ secretKeyRef: { name: 'churn-s3-credentials', key: 'access-key-id' } });
    expect(env.AWS_SECRET_ACCESS_KEY).toEqual({ secretKeyRef: { name: 'churn-s3-credentials', key: 'secret-access-key' } });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(jobs.ingest.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/churn-s3-credentials');
    // Other steps never see the credentials.
    for (const step of ['profile', 'features', 'train', 'evaluate']) {
      expect(JSON.stringify(jobs[step])).not.toContain('churn-s3-credentials');
    }
  });

  test('the GPU step asks for its GPU as request and limit, and tolerates the GPU taint', () => {
    const { resources } = jobs.train.spec.template.spec.containers[0];
    expect(resources.limits['nvidia.com/gpu']).toBe('1');
    expect(resources.requests['nvidia.com/gpu']).toBe('1');
    expect(jobs.train.spec.template.spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(jobs.train.spec.activeDeadlineSeconds).toBe(7200);
    for (const step of ['ingest', 'profile', 'features', 'evaluate']) {
      expect(JSON.stringify(jobs[step].spec.template.spec.containers[0].resources)).not.toContain('gpu');
    }
  });

  test('every object lives in the pipeline namespace and carries the pipeline label', () => {
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('ml-churn');
      expect(o.metadata.labels['mlops.cdk8s.io/pipeline']).toBe('churn');
      expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('cdk8s-mlops');
    }
  });
});
