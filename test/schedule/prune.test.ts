import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { Duration } from 'cdk8s';
import { ContainerStep, Dataset, Pipeline, PlainBackend } from '../../src';
import { verifyObjects } from '../../src/verify';
import { ManifestObject, simulate, SimulationResult } from '../../src/verify/simulator';
import { envOf, findOne, K8sObject, synth } from '../support/synth';

const image = 'busybox:1.36';

function retained(keep = 2, cron = '@hourly') {
  return synth((app) => {
    const p = new Pipeline(app, 'hourly', {
      namespace: 'ml',
      defaults: { image },
      // A long poll keeps the real kubectl calls of the simulations, and their wall time, down.
      backend: new PlainBackend({ pollInterval: Duration.seconds(30) }),
      schedule: { cron, keepArtifactsOfRuns: keep, successfulRunsToKeep: 1 },
    });
    const fetch = new ContainerStep(p, 'fetch', { outputs: { batch: Dataset } });
    new ContainerStep(p, 'score', { inputs: { batch: fetch.outputs.batch } });
    new ContainerStep(p, 'report', { inputs: { batch: fetch.outputs.batch } });
  }).objects;
}

describe('keepArtifactsOfRuns adds a last step to every run that deletes older runs\' folders', () => {
  const objects = retained();
  const cm = findOne(objects, 'ConfigMap', (o) => o.data?.jobs !== undefined);
  const prune = JSON.parse(cm.data.jobs).run.find((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'] === 'prune-runs');

  test('after the last steps, in the plan and as a run template running assets/prune-runs.sh on the coordinator image', () => {
    expect(cm.data.plan.split('\n').slice(-2)).toEqual(['prune-runs\thourly-prune-runs-@@run-hash@@\treport,score', '']);
    expect(prune.metadata.name).toBe('hourly-prune-runs-@@run-hash@@');
    expect(prune.spec.suspend).toBe(true);
    const pod = prune.spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(container.command).toEqual(['/bin/bash', '/etc/mlops/prune-runs.sh']);
    expect(envOf(container)).toMatchObject({ MLOPS_PIPELINE: 'hourly', MLOPS_KEEP_RUNS: '2', MLOPS_RUN: '@@run@@', MLOPS_RUNS_DIR: '/mnt/workspace/hourly/runs' });
    expect(container.volumeMounts).toContainEqual({ name: 'script', mountPath: '/etc/mlops', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'workspace', persistentVolumeClaim: { claimName: 'hourly-workspace' } });
    // The script is the one the package ships, in a ConfigMap of the YAML named by its hash.
    const script = readFileSync(join(__dirname, '..', '..', 'assets', 'prune-runs.sh'), 'utf8');
    const scriptMap = findOne(objects, 'ConfigMap', (o) => o.metadata.name === pod.volumes.find((v: K8sObject) => v.name === 'script').configMap.name);
    expect(scriptMap.metadata.name).toMatch(/^hourly-prune-runs-[0-9a-f]{8}$/);
    expect(scriptMap.data).toEqual({ 'prune-runs.sh': script });
    expect(scriptMap.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'cdk8s-mlops' });
  });

  test('with its own service account, allowed to list Jobs and nothing else', () => {
    expect(prune.spec.template.spec.serviceAccountName).toBe('hourly-prune-runs');
    expect(prune.spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(findOne(objects, 'Role', (o) => o.metadata.name === 'hourly-prune-runs').rules)
      .toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] }]);
    expect(findOne(objects, 'RoleBinding', (o) => o.metadata.name === 'hourly-prune-runs').subjects)
      .toEqual([{ kind: 'ServiceAccount', name: 'hourly-prune-runs', namespace: 'ml' }]);
    expect(findOne(objects, 'ServiceAccount', (o) => o.metadata.name === 'hourly-prune-runs').automountServiceAccountToken).toBe(false);
  });

  test('every object validates against the strict 1.27 schema, the prune Job of a run too', () => {
    const job = JSON.parse(JSON.stringify(prune).replace(/@@run-hash@@/g, 'abcd0123').replace(/@@run@@/g, 'hourly-29412345'));
    expect(verifyObjects([job]).problems.filter((p) => p.rule.startsWith('schema/'))).toEqual([]);
    expect(verifyObjects(objects).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});

/**
 * The prune step in the simulated cluster: assets/prune-runs.sh runs for real (bash, jq, ls,
 * rm over the claim's folders) and lists the coordinator Jobs with the real kubectl, as its
 * own ServiceAccount, through the loopback API server and the Role as synthesized. The
 * CronJob controller and the garbage collector are modelled (cronjob-controller.ts,
 * cluster.ts). Runs every 10 minutes, each step writes a file into its output folder.
 */
const EPOCH = 1_800_000_000; // a multiple of 10 minutes: '*/10 * * * *' fires at t=0
const run = (minute: number) => `hourly-${Math.floor(EPOCH / 60) + minute}`;
const stepJob = (runName: string, step: string) => `hourly-${step}-${createHash('sha256').update(runName).digest('hex').slice(0, 8)}`;
const steps = (train = 60) => ({
  fetch: { durations: [60], files: { '$MLOPS_OUTPUT_BATCH/part-0.csv': 'x' } },
  score: { durations: [train] },
  report: { durations: [30] },
});
const runFolders = (r: SimulationResult) => [...new Set(Object.keys(r.claims['hourly-workspace'] ?? {})
  .filter((f) => f.startsWith('hourly/runs/')).map((f) => f.split('/')[2]))].sort();
const pruned = (r: SimulationResult) => r.containers.filter((c) => c.step === 'prune-runs');

describe('the prune step, run for real in the simulated cluster', () => {
  let r: SimulationResult;
  beforeAll(async () => {
    r = await simulate(retained(2, '*/10 * * * *') as ManifestObject[], { startTime: EPOCH, namespace: 'ml', runs: { until: 1800 }, steps: steps() });
  });

  test('keeps the folders of the newest 2 runs and deletes the older ones', () => {
    expect(r.errors).toEqual([]);
    expect(Object.fromEntries(r.coordinators.map((c) => [c.job, c.outcome])))
      .toEqual({ [run(0)]: 'deleted', [run(10)]: 'deleted', [run(20)]: 'Complete', [run(30)]: 'Complete' });
    expect(pruned(r).map((c) => [c.job, c.exitCode, c.stdout])).toEqual([
      [stepJob(run(0), 'prune-runs'), 0, ''],
      [stepJob(run(10), 'prune-runs'), 0, ''],
      [stepJob(run(20), 'prune-runs'), 0, `removed ${run(0)}\n`],
      [stepJob(run(30), 'prune-runs'), 0, `removed ${run(10)}\n`],
    ]);
    expect(runFolders(r)).toEqual([run(20), run(30)]);
  });

  test('an older run goes with its Jobs as the docs promise: the CronJob deletes its coordinator Job, the garbage collector its step Jobs', () => {
    // successfulRunsToKeep: 1, so each finished run deletes the one before; the prune step deleted its folder.
    for (const old of [run(0), run(10)]) {
      expect(r.events.find((e) => e.job === old && e.what.startsWith('deleted'))?.what).toMatch(/^deleted \(CronJob hourly/);
      for (const step of ['fetch', 'score', 'report', 'prune-runs']) {
        expect(r.events.find((e) => e.job === stepJob(old, step) && e.what.startsWith('deleted'))?.what)
          .toBe(`deleted (garbage collected with its owner ${old})`);
      }
    }
  });

  test('one list of the coordinator Jobs per run, as the prune-runs ServiceAccount, which its Role allows and nothing more', () => {
    for (const c of pruned(r)) {
      const requests = c.kubectl.flatMap((k) => k.requests).filter((q) => q.verb !== 'discovery');
      expect(requests.map((q) => [q.verb, q.resource, q.namespace, q.code])).toEqual([['list', 'jobs', 'ml', 200]]);
    }
    expect(findOne(retained(2), 'Role', (o) => o.metadata.name === 'hourly-prune-runs').rules)
      .toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] }]);
  });
});

test('the folder of a run still going is kept past the newest N (keepArtifactsOfRuns: 1, runs overlapping), and deleted once it finished', async () => {
  const objects = retained(1, '*/10 * * * *');
  // Allow: the next run starts while the previous one still trains.
  const cronJob = findOne(objects, 'CronJob', () => true);
  cronJob.spec.concurrencyPolicy = 'Allow';
  const r = await simulate(objects as ManifestObject[], { startTime: EPOCH, namespace: 'ml', runs: { until: 600 }, steps: steps(700) });
  expect(r.errors).toEqual([]);
  expect(pruned(r).map((c) => [c.job, c.stdout])).toEqual([
    // run(0)'s own prune step, while its coordinator Job still runs; run(10), whose first step wrote at 660 s, is the newest.
    [stepJob(run(0), 'prune-runs'), `kept ${run(0)}: the run is still going\n`],
    [stepJob(run(10), 'prune-runs'), `removed ${run(0)}\n`],
  ]);
  expect(runFolders(r)).toEqual([run(10)]);
});

test('a Role without list: the real kubectl is refused, the simulation names the call, and no folder is deleted', async () => {
  const objects = retained(1, '*/10 * * * *');
  findOne(objects, 'Role', (o) => o.metadata.name === 'hourly-prune-runs').rules[0].verbs = ['get'];
  const r = await simulate(objects as ManifestObject[], { startTime: EPOCH, namespace: 'ml', runs: { until: 600 }, steps: steps() });
  const [first, second] = pruned(r);
  expect(second.stdout).toBe('warning: could not list the pipeline\'s runs; deleting nothing this time\n');
  expect(second.stderr).toBe('Error from server (Forbidden): jobs.batch is forbidden: User "system:serviceaccount:ml:hourly-prune-runs" cannot list resource "jobs" '
    + 'in API group "batch" in the namespace "ml"\n');
  expect(first.stdout).toBe(second.stdout);
  expect(r.errors).toContain(`the API refused container main of step prune-runs: \`kubectl ${second.kubectl[0].argv.join(' ')}\`: ${second.stderr.trim()}`);
  expect(runFolders(r)).toEqual([run(0), run(10)]);
});
