import { App, Duration, Size } from 'cdk8s';
import { Cpu, EnvValue, Secret, ServiceAccount } from 'cdk8s-plus-27';
import { addExamples } from '../../examples/app';
import { ContainerStep, Dataset, Gpu, Model, Pipeline, PlainBackend, StepVolume, TriggerRule, Workspace, WorkspaceAccess } from '../../src';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { verifyObjects } from '../../src/verify';
import { synth } from '../support/synth';
import { branchPipeline } from '../values/fixtures';

/** Every option of the library at once, so each rendered field meets the schema. */
function kitchenSink(app: App) {
  const pipeline = new Pipeline(app, 'sink', {
    namespace: 'team-a',
    labels: { team: 'fraud' },
    runId: 'r-2026-11-23',
    maxParallel: 3,
    runDeadline: Duration.hours(2),
    ttlAfterFinished: Duration.days(1),
    workspace: Workspace.claim({ size: Size.gibibytes(5), storageClassName: 'standard-rwx', access: WorkspaceAccess.READ_WRITE_MANY }),
    defaults: { image: 'python:3.12-slim', env: { LOG_LEVEL: EnvValue.fromValue('info') }, retries: 1 },
    backend: new PlainBackend({ pollInterval: Duration.seconds(3) }),
  });
  const token = Secret.fromSecretName(pipeline, 'Token', 'warehouse-token');
  const registry = Secret.fromSecretName(pipeline, 'Registry', 'ghcr-pull');
  const sa = new ServiceAccount(pipeline, 'Deployer', { metadata: { name: 'sink-deployer' } });
  const a = new ContainerStep(pipeline, 'a', {
    command: ['python', '-c'], args: ['print(1)'],
    env: { TOKEN: EnvValue.fromSecretValue({ secret: token, key: 'token' }) },
    secretVolumes: [{ secret: token, mountPath: '/var/run/token' }],
    resources: { ephemeralStorage: { request: Size.gibibytes(1), limit: Size.gibibytes(2) } },
    outputs: { rows: Dataset },
    imagePullSecrets: [registry],
  });
  const sweep = new ContainerStep(pipeline, 'sweep', {
    inputs: { rows: a.outputs.rows }, outputs: { model: Model },
    fanOut: 8, fanOutParallelism: 2, gpu: Gpu.nvidia(2),
    nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    timeout: Duration.minutes(45), retries: 3,
    resources: { cpu: { request: Cpu.units(2), limit: Cpu.units(4) }, memory: { request: Size.gibibytes(8) } },
  });
  const publish = new ContainerStep(pipeline, 'publish', {
    inputs: { model: sweep.outputs.model }, serviceAccount: sa, automountServiceAccountToken: true,
    security: { readOnlyRootFilesystem: false, user: 2000, group: 2000 },
    containerName: 'publisher', imagePullPolicy: 'Always', mlopsEnv: false,
    volumes: [
      { mountPath: '/data', volume: StepVolume.fromClaimName('imagenet'), readOnly: true, subPath: 'train' },
      { mountPath: '/etc/publish', volume: StepVolume.fromConfigMapName('publish-config') },
      { mountPath: '/scratch', volume: StepVolume.emptyDir({ sizeLimit: Size.gibibytes(20) }) },
      { mountPath: '/dev/shm', volume: StepVolume.emptyDir({ memory: true, sizeLimit: Size.mebibytes(512) }) },
      { mountPath: '/models', volume: StepVolume.workspace(), subPath: 'sink' },
    ],
  });
  publish.after(a);
  new ContainerStep(pipeline, 'cleanup', { after: [publish], trigger: TriggerRule.ALL_DONE });
  pipeline.onExit(new ContainerStep(pipeline, 'notify', { command: ['notify'] }));
}

describe('strict Kubernetes 1.27 schema', () => {
  test.each([
    ['every example', addExamples],
    ['a pipeline using every option', kitchenSink],
    ['a pipeline passing values and deciding on them', (app: App) => { branchPipeline(app); }],
  ])('every object of %s validates, with no dangling reference besides declared external ones', (_name, build) => {
    const { objects } = synth(build);
    const { problems } = verifyObjects(objects);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  // kubeconform and other validators use the published schema as is, where every pod
  // failure rule requires onPodConditions: check against kubernetes-models' own copy of it,
  // with none of verify's adjustments.
  test('every Job validates against the unmodified official 1.27 schema, every pod failure rule with onPodConditions', () => {
    const { objects } = synth((app) => { addExamples(app); kitchenSink(app); branchPipeline(app); });
    const jobs = objects.filter((o) => o.kind === 'Job');
    expect(jobs.length).toBeGreaterThan(10);
    for (const job of jobs) {
      expect(() => new Job(job as any).validate()).not.toThrow();
      for (const rule of job.spec.podFailurePolicy.rules) expect(rule.onPodConditions).toBeInstanceOf(Array);
    }
    const coordinator = jobs.find((o) => o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator')!;
    expect(coordinator.spec.podFailurePolicy.rules[0]).toEqual(
      { action: 'FailJob', onExitCodes: { containerName: 'coordinator', operator: 'In', values: [3, 4, 5] }, onPodConditions: [] });
    const unwaived = structuredClone(coordinator);
    delete unwaived.spec.podFailurePolicy.rules[0].onPodConditions;
    expect(() => new Job(unwaived as any).validate()).toThrow(/onPodConditions/);
  });

  test('the validator is strict: an unknown field in a synthesized pod is an error', () => {
    const { objects } = synth(addExamples);
    const job = objects.find((o) => o.kind === 'Job')!;
    job.spec.template.spec.containers[0].gpus = 1;
    const errors = verifyObjects(objects).problems.filter((p) => p.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].path).toBe('/spec/template/spec/containers/0/gpus');
    expect(errors[0].message).toContain('gpus');
  });
});
