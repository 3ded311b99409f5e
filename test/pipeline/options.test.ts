import { ApiObject, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { Cpu, EnvValue, Secret } from 'cdk8s-plus-27';
import { ContainerStep, Dataset, Gpu, Pipeline, PlainBackend, Workspace, WorkspaceAccess } from '../../src';
import { envOf, findOne, stepJobs } from '../support/synth';

describe('step and pipeline options', () => {
  test('explicit after() and artifact edges form one graph', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    const a = new ContainerStep(pipeline, 'a', { outputs: { out: Dataset } });
    const b = new ContainerStep(pipeline, 'b');
    const c = new ContainerStep(pipeline, 'c', { inputs: { x: a.outputs.out }, after: [b] });
    const d = new ContainerStep(pipeline, 'd');
    d.after(c, a);
    const jobs = stepJobs(Testing.synth(pipeline));
    expect(jobs.c.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('a,b');
    expect(jobs.d.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('a,c');
    expect(pipeline.graph.levels().get(d)).toBe(2);
  });

  test('fan-out renders an Indexed Job with its parallelism', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p');
    new ContainerStep(pipeline, 'sweep', { image: 'busybox:1.36', fanOut: 20, fanOutParallelism: 4, gpu: Gpu.resource('amd.com/gpu', 2) });
    const job = stepJobs(Testing.synth(pipeline)).sweep;
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 20, parallelism: 4, suspend: true });
    expect(job.spec.template.spec.containers[0].resources.limits['amd.com/gpu']).toBe('2');
  });

  test('pipeline defaults reach steps and a step\'s own settings win', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', {
      defaults: {
        image: 'busybox:1.36',
        env: { LOG_LEVEL: EnvValue.fromValue('info'), REGION: EnvValue.fromValue('eu') },
        nodeSelector: { pool: 'batch' },
        retries: 3,
        resources: { cpu: { request: Cpu.millis(250), limit: Cpu.units(1) } },
      },
    });
    new ContainerStep(pipeline, 's', {
      env: { LOG_LEVEL: EnvValue.fromValue('debug') },
      nodeSelector: { zone: 'a' },
      resources: { memory: { request: Size.gibibytes(3) } },
    });
    const job = stepJobs(Testing.synth(pipeline)).s;
    const container = job.spec.template.spec.containers[0];
    expect(envOf(container)).toMatchObject({ LOG_LEVEL: 'debug', REGION: 'eu' });
    expect(job.spec.backoffLimit).toBe(3);
    expect(job.spec.template.spec.nodeSelector).toEqual({ pool: 'batch', zone: 'a' });
    // The step set only memory (and only its request): the limit copies it; cpu is the pipeline's.
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '3Gi' }, limits: { cpu: '1', memory: '3Gi' } });
  });

  test('an existing claim is mounted, declared external, and no PVC is created', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { workspace: Workspace.fromClaimName('shared-data', WorkspaceAccess.READ_WRITE_MANY) });
    new ContainerStep(pipeline, 's', { image: 'busybox:1.36', outputs: { out: Dataset } });
    const objects = Testing.synth(pipeline);
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
    const job = stepJobs(objects).s;
    expect(job.spec.template.spec.volumes).toContainEqual({ name: 'workspace', persistentVolumeClaim: { claimName: 'shared-data' } });
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('persistentvolumeclaim/shared-data');
    expect(pipeline.warnings).toEqual([]);
  });

  test('a declared workspace uses the chosen size, class and access mode', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', {
      workspace: Workspace.claim({ size: Size.gibibytes(200), storageClassName: 'efs', access: WorkspaceAccess.READ_WRITE_MANY }),
    });
    new ContainerStep(pipeline, 's', { image: 'busybox:1.36', outputs: { out: Dataset } });
    const pvc = findOne(Testing.synth(pipeline), 'PersistentVolumeClaim');
    expect(pvc.metadata.name).toBe('p-workspace');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteMany'], storageClassName: 'efs', resources: { requests: { storage: '200Gi' } } });
  });

  test('no claim is declared when no step exchanges artifacts', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p');
    new ContainerStep(pipeline, 's', { image: 'busybox:1.36' });
    const objects = Testing.synth(pipeline);
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(JSON.stringify(stepJobs(objects).s)).not.toContain('workspace');
  });

  test('parallel steps on a ReadWriteOnce workspace are warned about', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    const a = new ContainerStep(pipeline, 'a', { outputs: { out: Dataset } });
    new ContainerStep(pipeline, 'b', { inputs: { x: a.outputs.out } });
    new ContainerStep(pipeline, 'c', { inputs: { x: a.outputs.out } });
    expect(pipeline.warnings).toEqual([expect.stringMatching(/^steps 'b', 'c' may run at the same time and share a ReadWriteOnce workspace/)]);
  });

  test('a ReadWriteOncePod workspace warns that parallel steps run one after another', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' }, workspace: Workspace.claim({ access: WorkspaceAccess.READ_WRITE_ONCE_POD }) });
    const a = new ContainerStep(pipeline, 'a', { outputs: { out: Dataset } });
    new ContainerStep(pipeline, 'b', { inputs: { x: a.outputs.out } });
    new ContainerStep(pipeline, 'c', { inputs: { x: a.outputs.out } });
    expect(pipeline.warnings).toEqual([expect.stringMatching(/^steps 'b', 'c' may run at the same time but share a ReadWriteOncePod workspace: only one pod can mount it/)]);
    const rwx = new Pipeline(app, 'q', { defaults: { image: 'busybox:1.36' }, workspace: Workspace.claim({ access: WorkspaceAccess.READ_WRITE_MANY, storageClassName: 'nfs' }) });
    const x = new ContainerStep(rwx, 'a', { outputs: { out: Dataset } });
    new ContainerStep(rwx, 'b', { inputs: { x: x.outputs.out } });
    new ContainerStep(rwx, 'c', { inputs: { x: x.outputs.out } });
    expect(rwx.warnings).toEqual([]);
  });

  test('secret volumes are mounted read-only by reference; ttl, deadline, cap and coordinator settings land', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', {
      maxParallel: 2,
      ttlAfterFinished: Duration.hours(1),
      runDeadline: Duration.minutes(30),
      backend: new PlainBackend({ coordinatorImage: 'mirror.local/kubectl:v1.30.0', pollInterval: Duration.seconds(10) }),
    });
    const creds = Secret.fromSecretName(pipeline, 'Creds', 'gcs-key');
    new ContainerStep(pipeline, 's', { image: 'busybox:1.36', secretVolumes: [{ secret: creds, mountPath: '/var/run/gcs' }] });
    const objects = Testing.synth(pipeline);
    const job = stepJobs(objects).s;
    expect(job.spec.template.spec.volumes).toContainEqual({ name: 'secret-0', secret: { secretName: 'gcs-key' } });
    expect(job.spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'secret-0', mountPath: '/var/run/gcs', readOnly: true });
    expect(job.spec.ttlSecondsAfterFinished).toBe(3600);
    const coordinator = findOne(objects, 'Job', (o) => o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator');
    const env = envOf(coordinator.spec.template.spec.containers[0]);
    expect(env).toMatchObject({ MLOPS_MAX_PARALLEL: '2', MLOPS_RUN_DEADLINE_SECONDS: '1800', MLOPS_POLL_SECONDS: '10' });
    expect(coordinator.spec.template.spec.containers[0].image).toBe('mirror.local/kubectl:v1.30.0');
    expect(coordinator.spec.ttlSecondsAfterFinished).toBe(3600);
  });

  test('private images: pull secrets from the defaults and the step reach the pod, by name, once each', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { labels: { team: 'fraud' } });
    const registry = Secret.fromSecretName(pipeline, 'Registry', 'ghcr-pull');
    const mirror = Secret.fromSecretName(pipeline, 'Mirror', 'mirror-pull');
    const withDefaults = new Pipeline(app, 'q', { defaults: { imagePullSecrets: [registry] } });
    new ContainerStep(withDefaults, 's', { image: 'ghcr.io/acme/x:1', imagePullSecrets: [mirror, registry] });
    new ContainerStep(pipeline, 's', { image: 'busybox:1.36' });
    const job = stepJobs(Testing.synth(withDefaults)).s;
    expect(job.spec.template.spec.imagePullSecrets).toEqual([{ name: 'ghcr-pull' }, { name: 'mirror-pull' }]);
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/ghcr-pull,secret/mirror-pull');
    // The pipeline's own labels land on its pods too, for cost attribution.
    const plain = stepJobs(Testing.synth(pipeline)).s;
    expect(plain.spec.template.metadata.labels).toEqual({ 'team': 'fraud', 'mlops.cdk8s.io/pipeline': 'p', 'mlops.cdk8s.io/step': 's' });
    expect(plain.spec.template.spec.imagePullSecrets).toBeUndefined();
  });

  test('the step\'s Job is its default child, the escape hatch for fields the library does not cover', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p');
    const step = new ContainerStep(pipeline, 's', { image: 'busybox:1.36' });
    ApiObject.of(step).addJsonPatch(JsonPatch.add('/spec/template/spec/priorityClassName', 'batch-low'));
    const job = stepJobs(Testing.synth(pipeline)).s;
    expect(job.spec.template.spec.priorityClassName).toBe('batch-low');
    expect(ApiObject.of(step).name).toBe(job.metadata.name);
  });
});
