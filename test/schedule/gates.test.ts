import { createHash } from 'crypto';
import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Evaluate, Features, Pipeline, PlainBackend, Threshold, Train } from '../../src';
import { verifyObjects } from '../../src/verify';
import { ManifestObject, simulate, SimulationResult } from '../../src/verify/simulator';
import { findOne, K8sObject } from '../support/synth';

/**
 * A gate in a pipeline with runs: its Job is named per run, so the reporter's grant cannot be
 * in the YAML. Each run's prelude creates a Role and RoleBinding naming that run's gate Job,
 * owned by the run's coordinator (docs/schedules.md, "Least privilege").
 */
const EPOCH = 1_800_000_000; // a multiple of 10 minutes: '*/10 * * * *' fires at t=0

function gated(gate = true): ManifestObject[] {
  const app = Testing.app();
  const p = new Pipeline(app, 'churn', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/churn:1.0' },
    backend: new PlainBackend({ pollInterval: Duration.seconds(30) }),
    schedule: { cron: '*/10 * * * *' },
  });
  const features = new ContainerStep(p, 'features', { outputs: { features: Features } });
  const train = new Train(p, 'train', { features: features.outputs.features });
  if (gate) {
    const evaluate = new Evaluate(p, 'evaluate', { model: train.outputs.model, testData: features.outputs.features, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)] });
    new ContainerStep(p, 'deploy', { inputs: { model: evaluate.approvedModel } });
  }
  return Testing.synth(p) as ManifestObject[];
}

const run = (minute: number) => `churn-${Math.floor(EPOCH / 60) + minute}`;
const hash8 = (r: string) => createHash('sha256').update(r).digest('hex').slice(0, 8);
const templates = (objects: K8sObject[]) => JSON.parse(findOne(objects, 'ConfigMap', (o) => o.data?.jobs !== undefined).data.jobs);
const whats = (r: SimulationResult) => r.events.map((e) => e.what);

describe('a gate in a scheduled pipeline', () => {
  const objects = gated();

  test('the YAML grants the reporter nothing: each run gets a Role naming its own gate Job, and its binding', () => {
    expect(objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.name)).toEqual([expect.stringMatching(/^churn-coordinator-/)]);
    expect(findOne(objects, 'ServiceAccount', (o) => o.metadata.name === 'churn-reporter').automountServiceAccountToken).toBe(false);
    const { grants, run: jobs } = templates(objects);
    const gateJob = jobs.find((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'] === 'evaluate-gate');
    expect(gateJob.metadata.name).toBe('churn-evaluate-gate-@@run-hash@@');
    expect(gateJob.spec.template.spec.serviceAccountName).toBe('churn-reporter');
    expect(grants).toEqual([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role',
        metadata: { name: 'churn-reporter-@@run-hash@@', namespace: 'ml', labels: expect.objectContaining({ 'app.kubernetes.io/component': 'reporter', 'mlops.cdk8s.io/pipeline': 'churn' }) },
        rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: ['churn-evaluate-gate-@@run-hash@@'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
        metadata: { name: 'churn-reporter-@@run-hash@@', namespace: 'ml', labels: expect.objectContaining({ 'app.kubernetes.io/component': 'reporter' }) },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'churn-reporter-@@run-hash@@' },
        subjects: [{ kind: 'ServiceAccount', name: 'churn-reporter', namespace: 'ml' }],
      },
    ]);
    // Filled in for a run, they are valid 1.27 objects.
    const filled = JSON.parse(JSON.stringify(grants).replace(/@@run-hash@@/g, hash8(run(0))));
    expect(verifyObjects(filled).problems.filter((p) => p.severity === 'error' && !p.message.includes('ServiceAccount'))).toEqual([]);
  });

  test('the coordinator may create Roles and RoleBindings, which grant nothing it does not hold; without a gate it may not', () => {
    const coordinatorRole = (o: ManifestObject[]) => findOne(o, 'Role', (r) => r.metadata.name.startsWith('churn-coordinator-')).rules;
    expect(coordinatorRole(objects)).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'get', 'create', 'patch'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create'] },
    ]);
    const plain = gated(false);
    expect(coordinatorRole(plain)).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'get', 'create', 'patch'] }]);
    expect(templates(plain).grants).toBeUndefined();
  });
});

describe('a scheduled run with a gate in the simulated cluster: gate.sh and the prelude run for real, with the real kubectl', () => {
  // The evaluation is the user's container, modelled: it leaves metrics.json where the gate reads it.
  const evaluated = (auc: number) => ({
    features: { durations: [30] }, train: { durations: [60] },
    evaluate: { durations: [30], files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ auc }) } },
  });
  const gateCalls = (r: SimulationResult) => r.containers.filter((k) => k.step === 'evaluate-gate')
    .map((k) => k.kubectl.flatMap((c) => c.requests).filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.name} ${q.code}`));

  test('an approving gate writes its verdict through its run\'s grant and the run succeeds; the history limit deletes the grant with the run', async () => {
    const objects = gated().map((o) => (o.kind === 'CronJob' ? { ...o, spec: { ...o.spec, successfulJobsHistoryLimit: 0 } } : o));
    const r = await simulate(objects, { startTime: EPOCH, namespace: 'ml', runs: { until: 600 }, steps: evaluated(0.86) });
    expect(r.errors).toEqual([]);
    const [first, second] = r.coordinators;
    expect(first.stdout).toContain(`starting run ${run(0)} of pipeline churn in namespace ml: 5 Jobs and the Role its gates and values reporters write with\ncreated the run's Jobs\n`);
    expect(whats(r)).toEqual(expect.arrayContaining([`Role churn-reporter-${hash8(run(0))} created`, `RoleBinding churn-reporter-${hash8(run(0))} created`]));
    expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(second.outcome).toBe('Complete');
    expect(second.steps.deploy.outcome).toBe('complete');
    // Each run's gate pod, as the reporter ServiceAccount: a GET and a PATCH of its own run's gate Job.
    expect(gateCalls(r)).toEqual([0, 10].map((m) => [`get churn-evaluate-gate-${hash8(run(m))} 200`, `patch churn-evaluate-gate-${hash8(run(m))} 200`]));
    // The sync that starts the second run deletes the first, finished one (limit 0) and its grant with it.
    expect(whats(r)).toEqual(expect.arrayContaining([
      `Role churn-reporter-${hash8(run(0))} deleted (garbage collected with its owner ${run(0)})`,
      `RoleBinding churn-reporter-${hash8(run(0))} deleted (garbage collected with its owner ${run(0)})`,
    ]));
  });

  test('a rejecting gate skips what needs the approved model and the run ends rejected: exit 4, not retried', async () => {
    const r = await simulate(gated(), { startTime: EPOCH, namespace: 'ml', runs: { until: 0 }, steps: evaluated(0.74) });
    expect(r.errors).toEqual([]);
    const [coordinator] = r.coordinators;
    expect(coordinator.exitCode).toBe(4);
    expect(coordinator.outcome).toBe('Failed: PodFailurePolicy');
    expect(coordinator.runs).toHaveLength(1);
    expect(coordinator.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.74 < 0.8');
    expect(coordinator.steps.deploy.skipped).toBe('gate rejected: auc 0.74 < 0.8');
    expect(coordinator.steps.deploy.pods).toEqual([]);
    expect(gateCalls(r)).toEqual([[`get churn-evaluate-gate-${hash8(run(0))} 200`, `patch churn-evaluate-gate-${hash8(run(0))} 200`]]);
  });

  test('without the run\'s grant the gate cannot write its verdict (what this fixes): its GET is forbidden and the run fails', async () => {
    const objects = gated().map((o) => {
      if (o.kind !== 'ConfigMap' || o.data?.jobs === undefined) return o;
      const { grants: _, ...jobs } = JSON.parse(o.data.jobs);
      return { ...o, data: { ...o.data, jobs: JSON.stringify(jobs) } };
    });
    const r = await simulate(objects, { startTime: EPOCH, namespace: 'ml', runs: { until: 0 }, steps: evaluated(0.86) });
    const [coordinator] = r.coordinators;
    expect(coordinator.exitCode).toBe(3);
    expect(gateCalls(r)[0]).toEqual([`get churn-evaluate-gate-${hash8(run(0))} 403`]);
    expect(r.containers[0].stderr).toContain(`cannot get resource "jobs" in API group "batch" in the namespace "ml"`);
    expect(coordinator.steps.deploy.skipped).toMatch(/^upstream step 'evaluate-gate' failed/);
  });

  test('a coordinator that could not patch Jobs itself may not grant it: the API server refuses the Role and the run stops with exit 5', async () => {
    // Privilege escalation prevention (pkg/registry/rbac/validation/rule.go, ConfirmNoEscalation).
    const objects = gated().map((o) => (o.kind === 'Role' ? { ...o, rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'get', 'create'] }, o.rules[1]] } : o));
    const r = await simulate(objects, { startTime: EPOCH, namespace: 'ml', runs: { until: 0 }, steps: evaluated(0.86) });
    const [coordinator] = r.coordinators;
    expect(coordinator.exitCode).toBe(5);
    expect(coordinator.stderr).toContain(`Error from server (Forbidden): error when creating "/tmp/run/jobs.json": roles.rbac.authorization.k8s.io "churn-reporter-${hash8(run(0))}" is forbidden: `
      + 'user "system:serviceaccount:ml:churn-coordinator" (groups=["system:serviceaccounts" "system:serviceaccounts:ml" "system:authenticated"]) '
      + `is attempting to grant RBAC permissions not currently held:\n{APIGroups:["batch"], Resources:["jobs"], ResourceNames:["churn-evaluate-gate-${hash8(run(0))}"], Verbs:["patch"]}`);
    expect(coordinator.outcome).toBe('Failed: PodFailurePolicy');
  });
});
