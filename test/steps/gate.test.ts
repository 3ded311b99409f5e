import { K8sObject, synth } from '../support/synth';
import { gatedPipeline } from './fixtures';

const byName = (objects: K8sObject[], kind: string, pred: (o: K8sObject) => boolean = () => true) => objects.filter((o) => o.kind === kind && pred(o));
const jobOf = (objects: K8sObject[], step: string) => byName(objects, 'Job', (o) => o.metadata.labels['mlops.cdk8s.io/step'] === step)[0];
const envOf = (job: K8sObject) => Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('Evaluate and its gate', () => {
  const { objects } = synth((app) => { gatedPipeline(app, true); });
  const evaluate = jobOf(objects, 'evaluate');
  const gate = jobOf(objects, 'evaluate-gate');
  const train = jobOf(objects, 'train');
  const deploy = jobOf(objects, 'deploy');

  test('the evaluation writes metrics; it is retried on a crash like any step', () => {
    const env = envOf(evaluate);
    expect(env.MLOPS_METRICS).toBe('auc,logloss');
    expect(env.MLOPS_OUTPUT_METRICS).toMatch(/^\/mnt\/workspace\/churn\/evaluate-[0-9a-f]{8}\/metrics$/);
    expect(env.MLOPS_INPUT_MODEL).toBe(`${envOf(train).MLOPS_OUTPUT_MODEL}`);
    expect(env.MLOPS_INPUT_TEST).toMatch(/\/features-[0-9a-f]{8}\/test$/);
    expect(evaluate.spec.backoffLimit).toBe(2);
  });

  test('the gate is a suspended Job on the kubectl image running the shipped script, the workspace read-only', () => {
    expect(gate.metadata.name).toMatch(/^churn-evaluate-gate-[0-9a-f]{8}$/);
    expect(gate.metadata.labels['app.kubernetes.io/component']).toBe('gate');
    expect(gate.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('evaluate');
    expect(gate.spec.suspend).toBe(true);
    const pod = gate.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(c.command).toEqual(['/bin/bash', '/etc/mlops/gate.sh']);
    const env = envOf(gate);
    expect(env.MLOPS_INPUT_METRICS).toBe(envOf(evaluate).MLOPS_OUTPUT_METRICS);
    expect(JSON.parse(env.MLOPS_GATE_THRESHOLDS)).toEqual([
      { metric: 'auc', op: '>=', value: 0.8 },
      { metric: 'logloss', op: '<=', value: 0.5 },
      { metric: 'auc', op: '>=', tolerance: 0.01 },
    ]);
    expect(env.MLOPS_SELF).toEqual({ fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } });
    expect(env.MLOPS_GATE_BASELINE).toBe('/mnt/baseline/churn/current/metrics.json');
    expect(c.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'workspace', mountPath: '/mnt/workspace', readOnly: true },
      { name: 'baseline', mountPath: '/mnt/baseline', readOnly: true },
    ]));
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'workspace', persistentVolumeClaim: { claimName: 'churn-workspace', readOnly: true } },
      { name: 'baseline', persistentVolumeClaim: { claimName: 'model-registry', readOnly: true } },
    ]));
    const script = byName(objects, 'ConfigMap', (o) => o.data?.['gate.sh'] !== undefined)[0];
    expect(pod.volumes).toContainEqual({ name: 'script', configMap: { name: script.metadata.name } });
    expect(script.metadata.name).toMatch(/^churn-gate-[0-9a-f]{8}$/);
    expect(gate.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('persistentvolumeclaim/model-registry');
  });

  test('a rejection is not retried: bad metrics fail the Job at once, an API error is retried', () => {
    expect(gate.spec.backoffLimit).toBe(2);
    expect(gate.spec.podFailurePolicy.rules[0]).toEqual({ action: 'FailJob', onExitCodes: { containerName: 'gate', operator: 'In', values: [3] }, onPodConditions: [] });
  });

  test('only the gate container gets a token: a projected reporter token, no automount', () => {
    const pod = gate.spec.template.spec;
    expect(pod.serviceAccountName).toBe('churn-reporter');
    expect(pod.automountServiceAccountToken).toBe(false);
    const token = pod.volumes.find((v: any) => v.name === 'reporter-token');
    expect(token.projected.sources[0]).toEqual({ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'reporter-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true });
    for (const step of ['ingest', 'features', 'train', 'evaluate', 'deploy']) {
      const p = jobOf(objects, step).spec.template.spec;
      expect(p.automountServiceAccountToken).toBe(false);
      expect(p.volumes.some((v: any) => v.projected)).toBe(false);
    }
  });

  test('the reporter Role grants exactly get and patch on the gate Jobs, by name', () => {
    const sa = byName(objects, 'ServiceAccount', (o) => o.metadata.name === 'churn-reporter')[0];
    expect(sa.automountServiceAccountToken).toBe(false);
    const role = byName(objects, 'Role', (o) => o.metadata.name.startsWith('churn-reporter-'))[0];
    expect(role.rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: [gate.metadata.name] }]);
    const binding = byName(objects, 'RoleBinding', (o) => o.metadata.name === role.metadata.name)[0];
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'churn-reporter', namespace: 'ml' }]);
  });

  test('the plan marks the gate (column 5) and orders deploy after it; deploy reads the model train wrote', () => {
    const plan: string = byName(objects, 'ConfigMap', (o) => o.data?.plan !== undefined)[0].data.plan;
    const lines = plan.trim().split('\n').map((l) => l.split('\t'));
    expect(lines.map((l) => l[0])).toEqual(['ingest', 'features', 'train', 'evaluate', 'evaluate-gate', 'deploy']);
    expect(lines[4]).toEqual(['evaluate-gate', gate.metadata.name, 'evaluate', 'all-succeeded', 'gate']);
    expect(lines[5]).toEqual(['deploy', deploy.metadata.name, 'evaluate-gate']);
    expect(envOf(deploy).MLOPS_INPUT_MODEL).toBe(envOf(train).MLOPS_OUTPUT_MODEL);
  });

  test('without a baseline the gate mounts no baseline claim', () => {
    const { objects: plain } = synth((app) => { gatedPipeline(app, false); });
    const g = jobOf(plain, 'evaluate-gate');
    expect(envOf(g).MLOPS_GATE_BASELINE).toBeUndefined();
    expect(g.spec.template.spec.volumes.map((v: any) => v.name)).toEqual(['script', 'tmp', 'workspace', 'reporter-token']);
  });
});
