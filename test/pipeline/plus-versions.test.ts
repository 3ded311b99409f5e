import { Size, Testing } from 'cdk8s';
import * as plus27 from 'cdk8s-plus-27';
import * as plus33 from 'cdk8s-plus-33';
import { ContainerStep, Dataset, Pipeline } from '../../src';
import { stepJobs, synthError } from '../support/synth';

/*
 * Users have whichever cdk8s-plus `cdk8s init` installed: cdk8s-plus-33 today, 27 in older
 * projects. The same pipeline written with either package's values must render the same
 * YAML, and a bad value must be refused the same way.
 */
type Plus = typeof plus27 | typeof plus33;

function pipelineWith(plus: Plus) {
  const app = Testing.app();
  const pipeline = new Pipeline(app, 'p', {
    namespace: 'ml',
    defaults: { image: 'busybox:1.36', resources: { cpu: { request: plus.Cpu.millis(250) } } },
  });
  const creds = plus.Secret.fromSecretName(pipeline, 'Creds', 'warehouse');
  const sa = plus.ServiceAccount.fromServiceAccountName(pipeline, 'Runner', 'runner');
  const a = new ContainerStep(pipeline, 'a', {
    env: { TOKEN: plus.EnvValue.fromSecretValue({ secret: creds, key: 'token' }), MODE: plus.EnvValue.fromValue('full') },
    secretVolumes: [{ secret: creds, mountPath: '/var/run/creds' }],
    imagePullSecrets: [creds],
    serviceAccount: sa,
    outputs: { rows: Dataset },
  });
  new ContainerStep(pipeline, 'b', {
    inputs: { rows: a.outputs.rows },
    resources: { cpu: { request: plus.Cpu.units(1), limit: plus.Cpu.units(2) }, memory: { request: Size.gibibytes(2) } },
  });
  return pipeline;
}

describe('values from any cdk8s-plus', () => {
  test('cdk8s-plus-33 values reach the Jobs: cpu, env from a Secret, mounted Secret, pull secret, service account', () => {
    const objects = Testing.synth(pipelineWith(plus33));
    const jobs = stepJobs(objects);
    const b = jobs.b.spec.template.spec.containers[0];
    expect(b.resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    const a = jobs.a.spec.template.spec;
    expect(a.containers[0].resources.requests.cpu).toBe('250m');
    expect(a.containers[0].env).toContainEqual({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'warehouse', key: 'token' } } });
    expect(a.containers[0].env).toContainEqual({ name: 'MODE', value: 'full' });
    expect(a.volumes).toContainEqual({ name: 'secret-0', secret: { secretName: 'warehouse' } });
    expect(a.imagePullSecrets).toEqual([{ name: 'warehouse' }]);
    expect(a.serviceAccountName).toBe('runner');
    expect(jobs.a.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/warehouse,serviceaccount/runner');
  });

  test('cdk8s-plus-27 and cdk8s-plus-33 values synthesize byte-identical YAML', () => {
    expect(Testing.synth(pipelineWith(plus33))).toEqual(Testing.synth(pipelineWith(plus27)));
  });

  test('plain object literals work where no cdk8s-plus is installed', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    new ContainerStep(pipeline, 'a', {
      resources: { cpu: { request: { amount: '1500m' } } },
      env: { MODE: { value: 'full' } },
      serviceAccount: { name: 'runner' },
    });
    const pod = stepJobs(Testing.synth(pipeline)).a.spec.template.spec;
    expect(pod.containers[0].resources.requests.cpu).toBe('1500m');
    expect(pod.containers[0].env).toContainEqual({ name: 'MODE', value: 'full' });
    expect(pod.serviceAccountName).toBe('runner');
  });

  test('a bad cdk8s-plus-33 cpu is named as a cpu, with the cpu fix, and nothing is written', () => {
    const result = synthError((app) => {
      const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
      new ContainerStep(pipeline, 'a', { resources: { cpu: { request: plus33.Cpu.units(-1), limit: plus33.Cpu.units(1) } } });
    });
    expect(result.message).toBe("Validation failed with the following errors:\n  [p/a] 'resources.cpu.request' is not a valid quantity (cpu '-1'); use Cpu.millis(n) or Cpu.units(n) with n >= 0");
    expect(result.written).toEqual([]);
  });

  test('the Secret a plus-33 step references stays a reference: no Secret or ServiceAccount of theirs is written', () => {
    const objects = Testing.synth(pipelineWith(plus33));
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name)).toEqual(['p-coordinator']);
  });
});
