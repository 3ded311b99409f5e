import { Size, Testing } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-27';
import { ContainerStep, Dataset, Pipeline, StepVolume, Workspace } from '../../src';
import { envOf, findOne, stepJobs } from '../support/synth';

describe('container options', () => {
  test('extra volumes land at their paths: a claim, a ConfigMap, size-limited emptyDirs and the workspace itself', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    const prep = new ContainerStep(pipeline, 'prep', { outputs: { rows: Dataset } });
    new ContainerStep(pipeline, 'train', {
      inputs: { rows: prep.outputs.rows },
      volumes: [
        { mountPath: '/data', volume: StepVolume.fromClaimName('imagenet'), readOnly: true },
        { mountPath: '/etc/train', volume: StepVolume.fromConfigMapName('train-config') },
        { mountPath: '/scratch', volume: StepVolume.emptyDir({ sizeLimit: Size.gibibytes(20) }) },
        { mountPath: '/dev/shm', volume: StepVolume.emptyDir({ memory: true, sizeLimit: Size.mebibytes(512) }) },
        { mountPath: '/mnt/vol', volume: StepVolume.workspace(), subPath: 'p' },
      ],
    });
    const objects = Testing.synth(pipeline);
    const job = stepJobs(objects).train;
    const pod = job.spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'workspace', persistentVolumeClaim: { claimName: 'p-workspace' } },
      { name: 'volume-0', persistentVolumeClaim: { claimName: 'imagenet' } },
      { name: 'volume-1', configMap: { name: 'train-config' } },
      { name: 'volume-2', emptyDir: { sizeLimit: '20Gi' } },
      { name: 'volume-3', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'workspace', mountPath: '/mnt/workspace' },
      { name: 'volume-0', mountPath: '/data', readOnly: true },
      { name: 'volume-1', mountPath: '/etc/train', readOnly: true },
      { name: 'volume-2', mountPath: '/scratch' },
      { name: 'volume-3', mountPath: '/dev/shm' },
      { name: 'workspace', mountPath: '/mnt/vol', subPath: 'p' },
    ]);
    // What the pod uses but the pipeline does not create is declared, so verify does not call it dangling.
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('configmap/train-config,persistentvolumeclaim/imagenet');
  });

  test('a step that only mounts the workspace at its own path gets the claim, and the pipeline declares it', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p');
    new ContainerStep(pipeline, 'legacy', { image: 'busybox:1.36', volumes: [{ mountPath: '/data', volume: StepVolume.workspace() }] });
    const objects = Testing.synth(pipeline);
    expect(findOne(objects, 'PersistentVolumeClaim').metadata.name).toBe('p-workspace');
    const pod = stepJobs(objects).legacy.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'workspace', persistentVolumeClaim: { claimName: 'p-workspace' } });
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'workspace', mountPath: '/data' }]);
    expect(pod.initContainers).toBeUndefined();

    const shared = new Pipeline(app, 'q', { workspace: Workspace.fromClaimName('team-data') });
    new ContainerStep(shared, 'legacy', { image: 'busybox:1.36', volumes: [{ mountPath: '/data', volume: StepVolume.workspace() }] });
    const job = stepJobs(Testing.synth(shared)).legacy;
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('persistentvolumeclaim/team-data');
  });

  test('the pull policy defaults as Kubernetes does: Always for :latest or no tag, IfNotPresent for a tag or a digest; a chosen one wins', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p');
    const digest = `sha256:${'a'.repeat(64)}`;
    const cases: Array<[string, string]> = [
      ['busybox', 'Always'],
      ['busybox:latest', 'Always'],
      ['localhost:5000/team/trainer', 'Always'],
      ['localhost:5000/team/trainer:1.2', 'IfNotPresent'],
      [`ghcr.io/acme/x@${digest}`, 'IfNotPresent'],
      [`ghcr.io/acme/x:latest@${digest}`, 'Always'],
    ];
    cases.forEach(([image], i) => new ContainerStep(pipeline, `s${i}`, { image }));
    new ContainerStep(pipeline, 'pinned', { image: 'busybox:latest', imagePullPolicy: 'IfNotPresent' });
    new ContainerStep(pipeline, 'offline', { image: 'busybox:1.36', imagePullPolicy: 'Never' });
    const jobs = stepJobs(Testing.synth(pipeline));
    cases.forEach(([image, policy], i) => expect([image, jobs[`s${i}`].spec.template.spec.containers[0].imagePullPolicy]).toEqual([image, policy]));
    expect(jobs.pinned.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(jobs.offline.spec.template.spec.containers[0].imagePullPolicy).toBe('Never');
  });

  test('a writable HOME by default, one the step sets wins; the container name is chosen', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    new ContainerStep(pipeline, 'a', { containerName: 'trainer' });
    new ContainerStep(pipeline, 'b', { env: { HOME: EnvValue.fromValue('/scratch/home') } });
    const jobs = stepJobs(Testing.synth(pipeline));
    const a = jobs.a.spec.template.spec;
    expect(a.containers[0].name).toBe('trainer');
    expect(envOf(a.containers[0]).HOME).toBe('/tmp');
    // /tmp is the pod's writable emptyDir, under a read-only root filesystem.
    expect(a.containers[0].volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(a.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(jobs.b.spec.template.spec.containers[0].env.filter((e: any) => e.name === 'HOME')).toEqual([{ name: 'HOME', value: '/scratch/home' }]);
  });

  test('mlopsEnv: false leaves exactly the step\'s own variables (and HOME); artifacts stay mounted', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    const prep = new ContainerStep(pipeline, 'prep', { outputs: { rows: Dataset } });
    new ContainerStep(pipeline, 'exact', { inputs: { rows: prep.outputs.rows }, outputs: { out: Dataset }, env: { MODE: EnvValue.fromValue('batch') }, mlopsEnv: false });
    const jobs = stepJobs(Testing.synth(pipeline));
    const pod = jobs.exact.spec.template.spec;
    expect(envOf(pod.containers[0])).toEqual({ MODE: 'batch', HOME: '/tmp' });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'workspace', mountPath: '/mnt/workspace' });
    expect(pod.initContainers[0].command[2]).toMatch(/^\/mnt\/workspace\/p\/exact-[0-9a-f]{8}\/out$/);
    expect(Object.keys(envOf(jobs.prep.spec.template.spec.containers[0]))).toEqual(['HOME', 'MLOPS_PIPELINE', 'MLOPS_STEP', 'MLOPS_OUTPUT_ROWS']);
  });
});
