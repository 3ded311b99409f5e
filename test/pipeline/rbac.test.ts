import { Testing } from 'cdk8s';
import { churnPipeline } from '../../examples/churn/pipeline';
import { ContainerStep, Pipeline } from '../../src';
import { findOne, K8sObject, stepJobs, synth } from '../support/synth';

describe('coordinator RBAC', () => {
  const { objects } = synth(churnPipeline);
  const coordinatorJob = findOne(objects, 'Job', (o) => o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator');
  // The gate's reporter has its own Role (test/steps/gate.test.ts); these are the coordinator's.
  const coordinators = (o: K8sObject) => o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator';

  test('creates nothing cluster-scoped', () => {
    expect(objects.filter((o) => ['ClusterRole', 'ClusterRoleBinding', 'Namespace'].includes(o.kind))).toEqual([]);
  });

  test('the Role grants list on jobs, and get and patch only on this pipeline\'s Jobs by name', () => {
    const role = findOne(objects, 'Role', coordinators);
    const names = [...Object.values(stepJobs(objects)).map((j) => j.metadata.name), coordinatorJob.metadata.name];
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: names },
    ]);
  });

  test('the RoleBinding ties that Role to the coordinator\'s own service account only', () => {
    const binding = findOne(objects, 'RoleBinding', coordinators);
    const role = findOne(objects, 'Role', coordinators);
    const sa = findOne(objects, 'ServiceAccount', coordinators);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'ml-churn' }]);
    expect(coordinatorJob.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(sa.automountServiceAccountToken).toBe(false);
    for (const [step, job] of Object.entries(stepJobs(objects))) {
      expect(job.spec.template.spec.serviceAccountName).toBe(step === 'evaluate-gate' ? 'churn-reporter' : undefined);
    }
  });

  test('the coordinator runs the mounted script with its settings', () => {
    const pod = coordinatorJob.spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(container.command).toEqual(['/bin/bash', '/etc/mlops/coordinate.sh']);
    const configMap = findOne(objects, 'ConfigMap', coordinators);
    expect(pod.volumes.find((v: any) => v.name === 'script').configMap.name).toBe(configMap.metadata.name);
    expect(configMap.metadata.name).toBe(coordinatorJob.metadata.name);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toEqual({
      MLOPS_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
      MLOPS_PIPELINE: 'churn',
      MLOPS_SELF: coordinatorJob.metadata.name,
      MLOPS_PLAN: '/etc/mlops/plan',
      MLOPS_POLL_SECONDS: '5',
      MLOPS_RUN_DEADLINE_SECONDS: String(6 * 3600),
      MLOPS_MAX_PARALLEL: '0',
      HOME: '/tmp',
    });
    // The Job outlives the run deadline so the script can stop and mark steps itself.
    expect(coordinatorJob.spec.activeDeadlineSeconds).toBeGreaterThan(6 * 3600);
    expect(coordinatorJob.spec.podFailurePolicy.rules[0]).toEqual(
      { action: 'FailJob', onExitCodes: { containerName: 'coordinator', operator: 'In', values: [3, 4, 5] }, onPodConditions: [] });
  });

  test('Role and binding are versioned with the coordinator, so a changed pipeline adds grants instead of replacing them', () => {
    const role = findOne(objects, 'Role', coordinators);
    expect(role.metadata.name).toBe(coordinatorJob.metadata.name);
    const version = (image: string) => {
      const app = Testing.app();
      const p = new Pipeline(app, 'p');
      new ContainerStep(p, 'a', { image });
      const out = Testing.synth(p);
      return { role: findOne(out, 'Role'), binding: findOne(out, 'RoleBinding'), sa: findOne(out, 'ServiceAccount') };
    };
    const v1 = version('busybox:1.36');
    const v2 = version('busybox:1.37');
    expect(v2.role.metadata.name).not.toBe(v1.role.metadata.name);
    expect(v2.binding.metadata.name).not.toBe(v1.binding.metadata.name);
    expect(v1.binding.roleRef.name).toBe(v1.role.metadata.name);
    // One service account for every version: both bindings grant to it.
    expect(v2.sa.metadata.name).toBe(v1.sa.metadata.name);
    expect(v1.role.rules[1].resourceNames).not.toEqual(v2.role.rules[1].resourceNames);
  });

  test('the coordinator\'s memory limit grows with the number of Jobs it lists', () => {
    const limitFor = (steps: number) => {
      const app = Testing.app();
      const p = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
      for (let i = 0; i < steps; i++) new ContainerStep(p, `s${i}`);
      const job = Testing.synth(p).find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator');
      return job.spec.template.spec.containers[0].resources.limits.memory;
    };
    expect(limitFor(3)).toBe('256Mi');
    expect(limitFor(2400)).toBe('300Mi');
  });
});
