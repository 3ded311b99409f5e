import { findOne, envOf, stepJobs, synth } from '../support/synth';
import { branchPipeline } from './fixtures';

describe('values between steps and conditions, as the plain backend renders them', () => {
  const { objects } = synth((app) => { branchPipeline(app); });
  const jobs = stepJobs(objects);
  const plan = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator').data.plan as string;
  const line = (step: string) => plan.split('\n').find((l) => l.startsWith(`${step}\t`))!.split('\t');

  test('plan column 6 holds the condition and column 7 the values a step reads; reading either orders the step after the producer', () => {
    expect(line('train')).toHaveLength(3);
    const deploy = line('deploy');
    expect(deploy.slice(2)).toEqual(['train', 'all-succeeded', 'job', '{"left":{"step":"train","value":"accuracy"},"op":">=","right":{"const":0.8}}', 'url=train.url']);
    const retrain = line('retrain');
    expect(retrain.slice(2)).toEqual(['train', 'all-succeeded', 'job', '{"left":{"step":"train","value":"accuracy"},"op":"<","right":{"const":0.8}}', 'accuracy=train.accuracy']);
    expect(line('announce').slice(2)).toEqual(['deploy,retrain', 'none-failed']);
  });

  test('the producer runs its container as the last init container, then the reporter with the only token', () => {
    const job = jobs.train;
    const pod = job.spec.template.spec;
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['prepare-outputs', 'main']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['report-values']);
    expect(job.spec.template.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/default-container': 'main' });
    const main = pod.initContainers[1];
    expect(envOf(main).MLOPS_VALUES).toBe('/mnt/values');
    expect(envOf(main).MLOPS_OUTPUT_MODEL).toBe(`/mnt/workspace/branch/train-${job.metadata.name.split('-').pop()}/model`);
    expect(main.volumeMounts).toContainEqual({ name: 'values', mountPath: '/mnt/values' });
    expect(main.volumeMounts.map((m: any) => m.name)).not.toContain('reporter-token');
    const reporter = pod.containers[0];
    expect(reporter.command).toEqual(['/bin/bash', '/etc/mlops/report-values.sh']);
    expect(reporter.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(JSON.parse(envOf(reporter).MLOPS_VALUE_TYPES)).toEqual({ accuracy: 'number', url: 'string', promoted: 'boolean', report: 'json' });
    expect(envOf(reporter).MLOPS_SELF).toEqual({ fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } });
    expect(reporter.volumeMounts).toContainEqual({ name: 'values', mountPath: '/mnt/values', readOnly: true });
    expect(reporter.volumeMounts).toContainEqual({ name: 'reporter-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true });
    expect(pod.serviceAccountName).toBe('branch-reporter');
    expect(pod.automountServiceAccountToken).toBe(false);
    const script = pod.volumes.find((v: any) => v.name === 'values-script').configMap.name;
    expect(findOne(objects, 'ConfigMap', (o) => o.metadata.name === script).data['report-values.sh']).toMatch(/^#!\/bin\/bash\n# cdk8s-mlops values reporter/);
    expect(job.spec.podFailurePolicy.rules[0]).toEqual({
      action: 'FailJob', onExitCodes: { containerName: 'report-values', operator: 'In', values: [3] }, onPodConditions: [],
    });
  });

  test('the reporter may get and patch only the Jobs that report', () => {
    const role = findOne(objects, 'Role', (o) => o.metadata.name.startsWith('branch-reporter-'));
    expect(role.rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: [jobs.train.metadata.name] }]);
    const binding = findOne(objects, 'RoleBinding', (o) => o.roleRef.name === role.metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'branch-reporter', namespace: 'ml' }]);
  });

  test('a consumer reads each value from its own pod annotation, through the downward API; args use it as $(MLOPS_VALUE_URL)', () => {
    const deploy = jobs.deploy.spec.template.spec.containers[0];
    expect(envOf(deploy).MLOPS_VALUE_URL).toEqual({ fieldRef: { fieldPath: "metadata.annotations['in.mlops.cdk8s.io/url']" } });
    expect(deploy.args).toEqual(['--model-url', '$(MLOPS_VALUE_URL)']);
    // Not declared in the template: a re-apply would reset what the coordinator wrote.
    expect(jobs.deploy.spec.template.metadata.annotations).toBeUndefined();
    expect(envOf(jobs.retrain.spec.template.spec.containers[0]).MLOPS_VALUE_ACCURACY)
      .toEqual({ fieldRef: { fieldPath: "metadata.annotations['in.mlops.cdk8s.io/accuracy']" } });
  });
});
