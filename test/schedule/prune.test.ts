import { spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ContainerStep, Dataset, Pipeline } from '../../src';
import { verifyObjects } from '../../src/verify';
import { envOf, findOne, K8sObject, synth } from '../support/synth';

const image = 'busybox:1.36';

function retained(keep = 2) {
  return synth((app) => {
    const p = new Pipeline(app, 'hourly', { namespace: 'ml', defaults: { image }, schedule: { cron: '@hourly', keepArtifactsOfRuns: keep } });
    const fetch = new ContainerStep(p, 'fetch', { outputs: { batch: Dataset } });
    new ContainerStep(p, 'score', { inputs: { batch: fetch.outputs.batch } });
    new ContainerStep(p, 'report', { inputs: { batch: fetch.outputs.batch } });
  }).objects;
}

describe('keepArtifactsOfRuns adds a last step to every run that deletes older runs\' folders', () => {
  const objects = retained();
  const cm = findOne(objects, 'ConfigMap', (o) => o.data?.jobs !== undefined);
  const prune = JSON.parse(cm.data.jobs).run.find((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'] === 'prune-runs');

  test('after the last steps, in the plan and as a run template on the coordinator image', () => {
    expect(cm.data.plan.split('\n').slice(-2)).toEqual(['prune-runs\thourly-prune-runs-@@run-hash@@\treport,score', '']);
    expect(prune.metadata.name).toBe('hourly-prune-runs-@@run-hash@@');
    expect(prune.spec.suspend).toBe(true);
    const container = prune.spec.template.spec.containers[0];
    expect(container.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(envOf(container)).toMatchObject({ MLOPS_PIPELINE: 'hourly', MLOPS_KEEP_RUNS: '2', MLOPS_RUN: '@@run@@' });
    expect(prune.spec.template.spec.volumes).toContainEqual({ name: 'workspace', persistentVolumeClaim: { claimName: 'hourly-workspace' } });
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
 * The prune script as synthesized, in bash with real jq, ls and rm over real folders. The
 * Job list comes from a stand-in kubectl printing what `kubectl get jobs -o json` prints
 * (a List of the pipeline's coordinator Jobs); a finished Job carries a Complete or Failed
 * condition with status "True" (pkg/controller/job/job_controller.go).
 */
describe('the prune step', () => {
  const script = (() => {
    const cm = findOne(retained(2), 'ConfigMap', (o) => o.data?.jobs !== undefined);
    const prune = JSON.parse(cm.data.jobs).run.find((j: K8sObject) => j.metadata.labels['mlops.cdk8s.io/step'] === 'prune-runs');
    return prune.spec.template.spec.containers[0].command[2] as string;
  })();

  function workspace(runs: Array<[string, 'running' | 'done' | 'deleted']>, listFails = false) {
    const root = mkdtempSync(join(tmpdir(), 'mlops-prune-'));
    const bin = join(root, 'bin');
    const runsDir = join(root, 'mnt', 'workspace', 'hourly', 'runs');
    mkdirSync(bin, { recursive: true });
    runs.forEach(([name], i) => {
      mkdirSync(join(runsDir, name, 'fetch'), { recursive: true });
      const t = 1_700_000_000 + i * 3600; // listed oldest first
      utimesSync(join(runsDir, name), t, t);
    });
    const items = runs.filter(([, s]) => s !== 'deleted').map(([name, s]) => ({
      metadata: { name }, status: s === 'done' ? { conditions: [{ type: 'Complete', status: 'True' }] } : { active: 1 },
    }));
    writeFileSync(join(bin, 'kubectl'), listFails
      ? '#!/bin/bash\necho "error: You must be logged in to the server (Unauthorized)" >&2; exit 1\n'
      : `#!/bin/bash\necho "$*" > "${root}/args"\ncat <<'JSON'\n${JSON.stringify({ apiVersion: 'v1', kind: 'List', items })}\nJSON\n`);
    chmodSync(join(bin, 'kubectl'), 0o755);
    const result = spawnSync('bash', ['-c', script.replace(/\/mnt\/workspace/g, join(root, 'mnt', 'workspace'))], {
      encoding: 'utf8',
      env: { PATH: `${bin}:${process.env.PATH}`, MLOPS_NAMESPACE: 'ml', MLOPS_PIPELINE: 'hourly', MLOPS_KEEP_RUNS: '2', MLOPS_RUN: runs[runs.length - 1][0], HOME: root },
    });
    return { result, left: () => readdirSync(runsDir).sort() };
  }

  test('keeps the newest N folders and those of runs still going, and deletes the rest', () => {
    const { result, left } = workspace([
      ['hourly-29000000', 'deleted'], // its coordinator Job was deleted by the history limit
      ['hourly-29000060', 'running'], // still going (allow)
      ['hourly-29000120', 'done'],
      ['hourly-29000180', 'done'],
      ['hourly-29000240', 'running'], // this run
    ]);
    expect(result.status).toBe(0);
    expect(left()).toEqual(['hourly-29000060', 'hourly-29000180', 'hourly-29000240']);
    expect(result.stdout).toBe('removed hourly-29000120\nkept hourly-29000060: the run is still going\nremoved hourly-29000000\n');
  });

  test('deletes nothing when it cannot list the runs', () => {
    const { result, left } = workspace([['hourly-1', 'done'], ['hourly-2', 'done'], ['hourly-3', 'running']], true);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('warning: could not list the pipeline\'s runs; deleting nothing this time\n');
    expect(left()).toEqual(['hourly-1', 'hourly-2', 'hourly-3']);
  });
});
