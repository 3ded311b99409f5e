import { churnPipeline } from '../../examples/churn/pipeline';
import { findOne, stepJobs, synth } from '../support/synth';

describe('coordinator RBAC', () => {
  const { objects } = synth(churnPipeline);
  const coordinatorJob = findOne(objects, 'Job', (o) => o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator');

  test('creates nothing cluster-scoped', () => {
    expect(objects.filter((o) => ['ClusterRole', 'ClusterRoleBinding', 'Namespace'].includes(o.kind))).toEqual([]);
  });

  test('the Role grants list on jobs, and patch only on this pipeline\'s Jobs by name', () => {
    const role = findOne(objects, 'Role');
    const names = [...Object.values(stepJobs(objects)).map((j) => j.metadata.name), coordinatorJob.metadata.name];
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['patch'], resourceNames: names },
    ]);
  });

  test('the RoleBinding ties that Role to the coordinator\'s own service account only', () => {
    const binding = findOne(objects, 'RoleBinding');
    const role = findOne(objects, 'Role');
    const sa = findOne(objects, 'ServiceAccount');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'ml-churn' }]);
    expect(coordinatorJob.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(sa.automountServiceAccountToken).toBe(false);
    for (const job of Object.values(stepJobs(objects))) {
      expect(job.spec.template.spec.serviceAccountName).toBeUndefined();
    }
  });

  test('the coordinator runs the mounted script with its settings', () => {
    const pod = coordinatorJob.spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe('registry.k8s.io/kubectl:v1.30.0');
    expect(container.command).toEqual(['/bin/bash', '/etc/mlops/coordinate.sh']);
    const configMap = findOne(objects, 'ConfigMap');
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
      { action: 'FailJob', onExitCodes: { containerName: 'coordinator', operator: 'In', values: [3] } });
  });
});
