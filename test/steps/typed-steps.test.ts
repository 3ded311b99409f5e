import { Gpu } from '../../src';
import { DataSource, Evaluate, FeatureEngineering, Ingest, ObjectStoreCredentials, Pipeline, Threshold, Train } from '../../src';
import { K8sObject, synth } from '../support/synth';

const image = 'ghcr.io/acme/churn:1.0.0';
const jobOf = (objects: K8sObject[], step: string) => objects.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step'] === step)!;
const envOf = (job: K8sObject) => Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('typed steps', () => {
  const { objects } = synth((app) => {
    const p = new Pipeline(app, 'churn', { namespace: 'ml' });
    const s3 = new Ingest(p, 'ingest', {
      source: DataSource.objectStore('s3://acme-ml/churn/2024/', ObjectStoreCredentials.s3({ name: 'aws-credentials' }, { region: 'eu-west-1' })),
    });
    const web = new Ingest(p, 'holidays', { source: DataSource.url('https://example.com/holidays.csv') });
    const gcs = new Ingest(p, 'events', { source: DataSource.objectStore('gs://acme-events/2024', ObjectStoreCredentials.gcs({ name: 'gcp-key' })) });
    const db = new Ingest(p, 'crm', { image, source: DataSource.database({ name: 'crm-db' }, 'url') });
    const landed = new Ingest(p, 'landed', { source: DataSource.claim('landing-zone', 'churn/2026-10/') });
    const own = new Ingest(p, 'own', { image, source: DataSource.claim('landing-zone', '') });
    const features = new FeatureEngineering(p, 'features', {
      image,
      datasets: { customers: s3.outputs.dataset, holidays: web.outputs.dataset, events: gcs.outputs.dataset, crm: db.outputs.dataset, landed: landed.outputs.dataset, own: own.outputs.dataset },
      split: { train: 0.8, test: 0.2, seed: 42 },
    });
    const train = new Train(p, 'train', {
      image, features: features.outputs.train, gpu: Gpu.nvidia(1), retries: 1,
      hyperparameters: { learning_rate: 0.05, max_depth: 6, objective: 'binary', early_stopping: true },
    });
    new Evaluate(p, 'evaluate', { image, model: train.outputs.model, testData: features.outputs.test, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)] });
  });

  test('Ingest from S3 copies with rclone configured by env, keys read from the existing Secret', () => {
    const job = jobOf(objects, 'ingest');
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe('rclone/rclone:1.68.2');
    expect(c.args).toEqual(['copy', 'source:acme-ml/churn/2024/', '$(MLOPS_OUTPUT_DATASET)']);
    const env = envOf(job);
    expect(env.RCLONE_CONFIG_SOURCE_TYPE).toBe('s3');
    expect(env.RCLONE_CONFIG_SOURCE_PROVIDER).toBe('AWS');
    expect(env.RCLONE_CONFIG_SOURCE_REGION).toBe('eu-west-1');
    expect(env.RCLONE_CONFIG_SOURCE_ACCESS_KEY_ID).toEqual({ secretKeyRef: { name: 'aws-credentials', key: 'AWS_ACCESS_KEY_ID' } });
    expect(env.RCLONE_CONFIG_SOURCE_SECRET_ACCESS_KEY).toEqual({ secretKeyRef: { name: 'aws-credentials', key: 'AWS_SECRET_ACCESS_KEY' } });
    expect(env.MLOPS_SOURCE_URI).toBe('s3://acme-ml/churn/2024/');
    expect(env.HOME).toBe('/tmp');
    expect(env.MLOPS_OUTPUT_DATASET).toMatch(/\/ingest-[0-9a-f]{8}\/dataset$/);
    // uid 1000, read-only root: rclone writes only under HOME=/tmp, the emptyDir.
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(job.spec.template.spec.securityContext.runAsUser).toBe(1000);
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/aws-credentials');
  });

  test('Ingest from a URL, from GCS and from a database', () => {
    expect(jobOf(objects, 'holidays').spec.template.spec.containers[0].args)
      .toEqual(['copyurl', 'https://example.com/holidays.csv', '$(MLOPS_OUTPUT_DATASET)', '--auto-filename']);
    const gcs = envOf(jobOf(objects, 'events'));
    expect(gcs.RCLONE_CONFIG_SOURCE_TYPE).toBe('google cloud storage');
    expect(gcs.RCLONE_CONFIG_SOURCE_SERVICE_ACCOUNT_CREDENTIALS).toEqual({ secretKeyRef: { name: 'gcp-key', key: 'key.json' } });
    const crm = jobOf(objects, 'crm');
    expect(crm.spec.template.spec.containers[0].image).toBe(image);
    expect(envOf(crm).MLOPS_SOURCE_URL).toEqual({ secretKeyRef: { name: 'crm-db', key: 'url' } });
  });

  test('Ingest from a path on a claim: the claim mounted read-only at /mnt/source, copied by rclone\'s local backend, or read by your image', () => {
    const job = jobOf(objects, 'landed');
    const pod = job.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe('rclone/rclone:1.68.2');
    expect(c.args).toEqual(['copy', '/mnt/source/churn/2026-10/', '$(MLOPS_OUTPUT_DATASET)']);
    const mount = c.volumeMounts.find((m: any) => m.mountPath === '/mnt/source');
    expect(mount.readOnly).toBe(true);
    expect(pod.volumes.find((v: any) => v.name === mount.name)).toEqual({ name: mount.name, persistentVolumeClaim: { claimName: 'landing-zone' } });
    expect(envOf(job).MLOPS_SOURCE_PATH).toBe('/mnt/source/churn/2026-10/');
    expect(envOf(job).MLOPS_SOURCE_URI).toBeUndefined();
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('persistentvolumeclaim/landing-zone');
    const own = jobOf(objects, 'own').spec.template.spec.containers[0];
    expect([own.image, own.args]).toEqual([image, undefined]);
    expect(envOf(jobOf(objects, 'own')).MLOPS_SOURCE_PATH).toBe('/mnt/source');
  });

  test('FeatureEngineering reads every dataset and splits into train and test, fractions and seed as env', () => {
    const env = envOf(jobOf(objects, 'features'));
    for (const name of ['CUSTOMERS', 'HOLIDAYS', 'EVENTS', 'CRM', 'LANDED', 'OWN']) expect(env[`MLOPS_INPUT_${name}`]).toMatch(/\/dataset$/);
    expect(env.MLOPS_OUTPUT_TRAIN).toMatch(/\/features-[0-9a-f]{8}\/train$/);
    expect(env.MLOPS_OUTPUT_TEST).toMatch(/\/features-[0-9a-f]{8}\/test$/);
    expect([env.MLOPS_SPLIT_TRAIN, env.MLOPS_SPLIT_TEST, env.MLOPS_SPLIT_SEED]).toEqual(['0.8', '0.2', '42']);
    expect(env.MLOPS_OUTPUT_FEATURES).toBeUndefined();
  });

  test('Train passes hyperparameters one by one and as JSON, with the container options', () => {
    const job = jobOf(objects, 'train');
    const env = envOf(job);
    expect(env.MLOPS_INPUT_FEATURES).toMatch(/\/features-[0-9a-f]{8}\/train$/);
    expect(env.MLOPS_OUTPUT_MODEL).toMatch(/\/train-[0-9a-f]{8}\/model$/);
    expect([env.MLOPS_HP_LEARNING_RATE, env.MLOPS_HP_MAX_DEPTH, env.MLOPS_HP_OBJECTIVE, env.MLOPS_HP_EARLY_STOPPING]).toEqual(['0.05', '6', 'binary', 'true']);
    expect(JSON.parse(env.MLOPS_HYPERPARAMETERS)).toEqual({ learning_rate: 0.05, max_depth: 6, objective: 'binary', early_stopping: true });
    expect(job.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(job.spec.backoffLimit).toBe(1);
  });
});
