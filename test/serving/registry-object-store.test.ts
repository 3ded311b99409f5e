import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Chart, Duration } from 'cdk8s';
import {
  BatchData, BatchInference, Baseline, ContainerStep, Evaluate, Features, ModelRegistry, ModelServer, Pipeline, Promote, RegistryObjectStoreOptions, ServingRuntime, Threshold, Train,
} from '../../src';
import { verifyObjects } from '../../src/verify';
import { envOf, expectSynthFailure, findOne, K8sObject, stepJobs, synth } from '../support/synth';
import { objectStorePipeline, REGISTRY_SECRET } from './promote-fixtures';

const ASSETS = join(__dirname, '..', '..', 'assets');
const S3_SCRIPT = readFileSync(join(ASSETS, 'registry-s3.sh'), 'utf8');
const PROMOTE_SCRIPT = readFileSync(join(ASSETS, 'promote.sh'), 'utf8');
const OPTIONS: RegistryObjectStoreOptions = { credentials: REGISTRY_SECRET, endpoint: 'http://minio.storage:9000', region: 'eu-west-1' };
const registry = ModelRegistry.fromObjectStore('s3://ml-models/registry', OPTIONS);
const errorsOf = (objects: K8sObject[]) => verifyObjects(objects).problems.filter((p) => p.severity === 'error');

/** The env every object-store container gets: where the registry is, and the key by reference only. */
const STORE_ENV = {
  MLOPS_S3_BUCKET: 'ml-models',
  MLOPS_S3_MODEL_PREFIX: 'registry/churn',
  MLOPS_S3_ENDPOINT: 'http://minio.storage:9000',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: { secretKeyRef: { name: 'registry-s3', key: 'access-key-id' } },
  AWS_SECRET_ACCESS_KEY: { secretKeyRef: { name: 'registry-s3', key: 'secret-access-key' } },
  AWS_EC2_METADATA_DISABLED: 'true',
};
const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true };

function server(app: App, runtime: ServingRuntime, version?: number) {
  const chart = new Chart(app, 'serving', { namespace: 'ml' });
  return new ModelServer(chart, 'churn-server', { model: 'churn', registry, runtime, version });
}

const podOf = (objects: K8sObject[], name = 'churn-server') => findOne(objects, 'Deployment', (d) => d.metadata.name === name).spec.template.spec;
const names = (containers: K8sObject[] | undefined) => (containers ?? []).map((c) => c.name);

describe('ModelRegistry.fromObjectStore', () => {
  test('the churn pipeline and its servers on s3://ml-models/registry: strict 1.27 schema, and no credential value anywhere', () => {
    const { objects, files } = synth((app) => { objectStorePipeline(app); });
    expect(errorsOf(objects)).toEqual([]);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const containers = objects.flatMap((o) => {
      const pod = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
      return pod ? [...(pod.initContainers ?? []), ...pod.containers] : [];
    });
    const keyed = containers.filter((c) => (c.env ?? []).some((e: any) => e.name.startsWith('AWS_')));
    expect(keyed.map((c) => c.name).sort()).toEqual(['fetch-baseline', 'publish', 'pull-model', 'pull-model', 'sync-model']);
    for (const c of keyed) expect(envOf(c)).toMatchObject(STORE_ENV);
    // Names only: the YAML never carries an access key.
    expect(Object.values(files).join('\n')).not.toMatch(/AKIA[0-9A-Z]{12}/);
  });

  test('promotion: lineage (jq), publish (the AWS CLI, with the key) and the hooks (kubectl), in one restricted pod, no claim', () => {
    const { objects } = synth((app) => { objectStorePipeline(app); });
    const pod = stepJobs(objects).promote.spec.template.spec;
    expect(names(pod.initContainers)).toEqual(['lineage', 'publish']);
    expect(names(pod.containers)).toEqual(['promote']);
    const [lineage, publish] = pod.initContainers;
    const [promote] = pod.containers;
    expect(lineage).toMatchObject({ image: 'registry.k8s.io/kubectl:v1.28.15', command: ['/bin/bash', '/etc/mlops/promote.sh', 'lineage', '/run/mlops-promote/lineage.json'] });
    expect(publish).toMatchObject({
      image: 'amazon/aws-cli:2.9.19',
      command: ['/bin/bash', '/etc/mlops/registry-s3.sh', 'publish', '$(MLOPS_INPUT_MODEL)', '/run/mlops-promote/lineage.json', '/run/mlops-promote/version'],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      securityContext: RESTRICTED,
    });
    expect(envOf(publish)).toMatchObject({ ...STORE_ENV, HOME: '/tmp' });
    expect(promote.command).toEqual(['/bin/bash', '/etc/mlops/promote.sh', 'tell', '/run/mlops-promote/version']);
    // Only the upload has the access key; the hooks' container and the lineage do not.
    for (const c of [lineage, promote]) expect(Object.keys(envOf(c)).filter((k) => k.startsWith('AWS_') || k.startsWith('MLOPS_S3_'))).toEqual([]);
    expect(envOf(promote).MLOPS_REGISTRY_MODEL).toBe('s3://ml-models/registry/churn');
    expect(pod.volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName)).toEqual(['churn-workspace']);
    expect(pod.volumes).toContainEqual({ name: 'volume-0', emptyDir: { sizeLimit: '1Mi' } });
    const script = pod.volumes.find((v: any) => v.configMap).configMap.name;
    expect(findOne(objects, 'ConfigMap', (o) => o.metadata.name === script).data).toEqual({ 'promote.sh': PROMOTE_SCRIPT, 'registry-s3.sh': S3_SCRIPT });
    expect(stepJobs(objects).promote.metadata.annotations['mlops.cdk8s.io/external-refs']).toMatch(/^secret\/registry-s3,/);
  });

  test('the gate downloads the newest ready version\'s lineage into an emptyDir before judging', () => {
    const { objects } = synth((app) => { objectStorePipeline(app); });
    const job = stepJobs(objects)['evaluate-gate'];
    const pod = job.spec.template.spec;
    expect(names(pod.initContainers)).toEqual(['fetch-baseline']);
    expect(pod.initContainers[0]).toMatchObject({ image: 'amazon/aws-cli:2.9.19', command: ['/bin/bash', '/etc/mlops-registry/registry-s3.sh', 'baseline', '/mnt/baseline/churn'] });
    expect(envOf(pod.containers[0])).toMatchObject({ MLOPS_GATE_BASELINE_REGISTRY: '/mnt/baseline/churn', MLOPS_GATE_BASELINE_NAME: 'churn in registry s3://ml-models/registry' });
    expect(pod.volumes).toContainEqual({ name: 'baseline', emptyDir: { sizeLimit: '1Mi' } });
    const script = pod.volumes.find((v: any) => v.name === 'registry-script').configMap.name;
    expect(findOne(objects, 'ConfigMap', (o) => o.metadata.name === script).data).toEqual({ 'registry-s3.sh': S3_SCRIPT });
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/registry-s3');
  });

  test.each([
    ['TensorFlow Serving polls its folder: pull at start, then a sync sidecar', ServingRuntime.tensorflowServing(), undefined, ['pull-model'], ['server', 'sync-model']],
    ['Triton polls: pull, its repository, a sync sidecar', ServingRuntime.triton(), undefined, ['pull-model', 'wait-for-version'], ['server', 'sync-model']],
    ['MLServer\'s reloader follows: pull, link, reloader and sync', ServingRuntime.mlserver({ implementation: 'mlserver_sklearn.SKLearnModel' }), undefined, ['pull-model', 'wait-for-version'], ['server', 'reloader', 'sync-model']],
    ['any image loads at start, a promotion restarts it: pull only', ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' }), undefined, ['pull-model', 'wait-for-version'], ['server']],
    ['a pinned version (the rollback) pulls that version once', ServingRuntime.tensorflowServing(), 3, ['pull-model'], ['server']],
  ])('server: %s', (_, runtime, version, init, containers) => {
    const { objects } = synth((app) => { server(app, runtime, version); });
    expect(errorsOf(objects)).toEqual([]);
    const pod = podOf(objects);
    expect(names(pod.initContainers)).toEqual(init);
    expect(names(pod.containers)).toEqual(containers);
    const pull = pod.initContainers[0];
    expect(pull).toMatchObject({
      image: 'amazon/aws-cli:2.9.19',
      command: ['/bin/bash', '/etc/mlops-registry/registry-s3.sh', 'pull', '/models/churn', version === undefined ? '' : String(version), 'wait'],
      resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '20m', memory: '96Mi' } },
      securityContext: RESTRICTED,
    });
    expect(envOf(pull)).toMatchObject({ ...STORE_ENV, HOME: '/tmp' });
    expect(pull.volumeMounts).toContainEqual({ name: 'registry', mountPath: '/models' });
    const sync = pod.containers.find((c: any) => c.name === 'sync-model');
    if (sync) expect(sync.command).toEqual(['/bin/bash', '/etc/mlops-registry/registry-s3.sh', 'sync', '/models/churn', '30']);
    // The server reads the pod's copy, laid out as a claim registry, read-only.
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'registry', mountPath: '/models', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'registry', emptyDir: {} });
    expect(pod.volumes.some((v: any) => v.persistentVolumeClaim)).toBe(false);
    const script = pod.volumes.find((v: any) => v.name === 'registry-script').configMap.name;
    expect(findOne(objects, 'ConfigMap', (o) => o.metadata.name === script).data).toEqual({ 'registry-s3.sh': S3_SCRIPT });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('a sync interval other than the default reaches the sidecar', () => {
    const { objects } = synth((app) => {
      const chart = new Chart(app, 'serving', { namespace: 'ml' });
      new ModelServer(chart, 'churn-server', {
        model: 'churn', runtime: ServingRuntime.tensorflowServing(),
        registry: ModelRegistry.fromObjectStore('s3://ml-models', { ...OPTIONS, syncInterval: Duration.minutes(2), clientImage: 'public.ecr.aws/aws-cli/aws-cli:2.15.0' }),
      });
    });
    const sync = podOf(objects).containers.find((c: any) => c.name === 'sync-model');
    expect(sync).toMatchObject({ image: 'public.ecr.aws/aws-cli/aws-cli:2.15.0', command: ['/bin/bash', '/etc/mlops-registry/registry-s3.sh', 'sync', '/models/churn', '120'] });
    // The bucket's root: the model's folder is the prefix.
    expect(envOf(sync).MLOPS_S3_MODEL_PREFIX).toBe('churn');
  });

  test('batch inference downloads the version (no ready one fails the run at once), then links it', () => {
    const { objects } = synth((app) => {
      const p = new Pipeline(app, 'churn', { namespace: 'ml', defaults: { image: 'ghcr.io/acme/churn:1.4.2' } });
      const features = new ContainerStep(p, 'features', { outputs: { features: Features } });
      const train = new Train(p, 'train', { features: features.outputs.features });
      const evaluate = new Evaluate(p, 'evaluate', { model: train.outputs.model, testData: features.outputs.features, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)] });
      new BatchInference(new Chart(app, 'scoring', { namespace: 'ml' }), 'churn-hourly', {
        approvedModel: evaluate.approvedModel, registry, model: 'churn', schedule: { cron: '5 * * * *' }, image: 'ghcr.io/acme/churn:1.4.2',
        input: BatchData.fromUri('s3://lake/customers'), output: BatchData.fromUri('s3://lake/scores'),
      });
    });
    expect(errorsOf(objects)).toEqual([]);
    const cron = findOne(objects, 'CronJob');
    const job = cron.spec.jobTemplate.spec;
    const pod = job.template.spec;
    expect(names(pod.initContainers)).toEqual(['pull-model', 'pick-version']);
    expect(pod.initContainers[0]).toMatchObject({ image: 'amazon/aws-cli:2.9.19', command: ['/bin/bash', '/etc/mlops/registry-s3.sh', 'pull', '/models/churn', '', 'fail'], securityContext: RESTRICTED });
    expect(envOf(pod.initContainers[0])).toMatchObject(STORE_ENV);
    expect(job.podFailurePolicy.rules).toContainEqual({ action: 'FailJob', onExitCodes: { containerName: 'pull-model', operator: 'In', values: [3] }, onPodConditions: [] });
    expect(pod.volumes).toContainEqual({ name: 'registry', emptyDir: {} });
    const script = findOne(objects, 'ConfigMap', (o) => o.metadata.name === 'churn-hourly-pick-version');
    expect(Object.keys(script.data)).toEqual(['pick-version.sh', 'registry-s3.sh']);
    expect(cron.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/registry-s3');
  });
});

describe('fails at synth, naming the construct, the value and the fix; nothing written', () => {
  const serve = (uri: string, options: Partial<RegistryObjectStoreOptions> = {}) => (app: App) => {
    new ModelServer(new Chart(app, 'serving'), 'churn-server', {
      model: 'churn', runtime: ServingRuntime.tensorflowServing(), registry: ModelRegistry.fromObjectStore(uri, { ...OPTIONS, ...options }),
    });
  };
  test.each([
    ['a URI that is not s3://', 'ml-models/registry',
      '[serving/churn-server] registry URI "ml-models/registry" is not an S3 URI; write s3://<bucket>/<prefix>, e.g. s3://ml-models/registry'],
    ['a bucket name with capitals and _', 's3://ML_Models/registry',
      '[serving/churn-server] registry URI \'s3://ML_Models/registry\' names the bucket \'ML_Models\', which S3 rejects: S3 bucket names hold only lowercase letters, digits, \'.\' and \'-\''],
    ['a bucket name too short', 's3://ab',
      '[serving/churn-server] registry URI \'s3://ab\' names the bucket \'ab\', which S3 rejects: it has 2 characters; S3 bucket names have 3 to 63'],
    ['a bucket name formatted as an IP address', 's3://192.168.1.10/models',
      '[serving/churn-server] registry URI \'s3://192.168.1.10/models\' names the bucket \'192.168.1.10\', which S3 rejects: S3 bucket names are not formatted as an IP address'],
    ['a prefix with an empty folder', 's3://ml-models/a//b',
      '[serving/churn-server] registry URI \'s3://ml-models/a//b\' has the key prefix \'a//b\': use letters, digits and !_.*\'()- in \'/\'-separated folders, without empty, \'.\' or \'..\' folders'],
  ])('%s', (_, uri, message) => expectSynthFailure(serve(uri), message));

  test('a credential key name missing (JavaScript, or an empty string)', () => expectSynthFailure(
    serve('s3://ml-models/registry', { credentials: { secret: 'registry-s3', accessKeyIdKey: 'access-key-id', secretAccessKeyKey: '' } }),
    '[serving/churn-server] registry s3://ml-models/registry: credentials.secretAccessKeyKey is "", not a key of Secret \'registry-s3\'; '
      + 'name the key that holds it (letters, digits, \'-\', \'_\' and \'.\'), e.g. \'access-key-id\'',
  ));

  test('no credentials at all', () => expectSynthFailure(
    serve('s3://ml-models/registry', { credentials: undefined }),
    '[serving/churn-server] registry s3://ml-models/registry has no credentials: set credentials: { secret, accessKeyIdKey, secretAccessKeyKey }, the names of an existing Secret and its keys',
  ));

  test('a Secret name Kubernetes refuses', () => expectSynthFailure(
    serve('s3://ml-models/registry', { credentials: { ...REGISTRY_SECRET, secret: 'Registry_S3' } }),
    '[serving/churn-server] registry s3://ml-models/registry: credentials.secret "Registry_S3" is not a Secret name: '
      + 'use at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit',
  ));

  test('an endpoint that is not an http(s) URL', () => expectSynthFailure(
    serve('s3://ml-models/registry', { endpoint: 'minio.storage:9000' }),
    '[serving/churn-server] registry s3://ml-models/registry: endpoint \'minio.storage:9000\' is not an http(s) URL of a host and optional port, e.g. http://minio.storage:9000',
  ));

  test('a bad bucket reaches the promotion and the gate too', () => expectSynthFailure(
    (app) => {
      const p = new Pipeline(app, 'churn', { namespace: 'ml', defaults: { image: 'ghcr.io/acme/churn:1.4.2' } });
      const features = new ContainerStep(p, 'features', { outputs: { features: Features } });
      const train = new Train(p, 'train', { features: features.outputs.features });
      const bad = ModelRegistry.fromObjectStore('s3://Bad', OPTIONS);
      const evaluate = new Evaluate(p, 'evaluate', {
        model: train.outputs.model, testData: features.outputs.features, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)], baseline: Baseline.fromRegistry(bad, 'churn'),
      });
      new Promote(p, 'promote', { model: evaluate.approvedModel, registry: bad, modelName: 'churn' });
    },
    '[churn/evaluate/gate] baseline: registry URI \'s3://Bad\' names the bucket \'Bad\', which S3 rejects: S3 bucket names hold only lowercase letters, digits, \'.\' and \'-\'',
  ));
});
