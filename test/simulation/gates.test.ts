import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { main } from '../../src/cli/main';
import { ManifestObject, ObserverView, simulate, SimulateOptions, SimulationResult } from '../../src/verify/simulator';
import { gatedPipeline } from '../steps/fixtures';
import { realKubectl } from '../support/kubectl';
import { expectClean } from './fixtures';

/**
 * The evaluation gate end to end, from typed steps: `Evaluate` with thresholds synthesizes
 * the gate Job, whose pod runs assets/gate.sh for real (bash, jq, the real kubectl with the
 * reporter's projected token, authorized by the synthesized Role). The evaluation's
 * container is the user's, modelled: it writes metrics.json into the workspace claim, where
 * the gate reads it. No verdict is written by hand.
 *
 * churn: ingest -> features (split) -> train -> evaluate -> evaluate-gate -> deploy.
 */
const READER = 'status-reader';
const readerRbac: ManifestObject[] = [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: READER, namespace: 'ml' }, rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] }, { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: READER, namespace: 'ml' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: READER },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: READER }],
  },
];

function objects(baseline: boolean): ManifestObject[] {
  const app = Testing.app();
  const { p } = gatedPipeline(app, baseline);
  return [...(Testing.synth(p) as ManifestObject[]), ...readerRbac];
}

const metrics = (m: object) => ({ files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify(m) } });

/** Runs the churn pipeline; `cdk8s-mlops status` looks at it after the run, as a read-only user. */
async function run(options: SimulateOptions & { baseline?: boolean }): Promise<{ r: SimulationResult; status: { code: number; stdout: string } }> {
  let status = { code: -1, stdout: '' };
  const r = await simulate(objects(options.baseline ?? false), {
    ...options,
    observer: { user: READER, at: [], look: async (view) => { if (view.final) status = await statusOf(view); } },
  });
  return { r, status };
}

async function statusOf(view: ObserverView): Promise<{ code: number; stdout: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-status-'));
  try {
    fs.writeFileSync(path.join(home, 'kubeconfig'), view.kubeconfig);
    let stdout = '';
    const code = await main(['status', 'churn', '-n', 'ml'], {
      out: (t) => { stdout += t; },
      err: (t) => { stdout += t; },
      now: () => new Date(view.now * 1000),
      env: { MLOPS_KUBECTL: realKubectl().path, KUBECONFIG: path.join(home, 'kubeconfig'), HOME: home, PATH: '/usr/bin:/bin' },
    });
    return { code, stdout };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

describe('the gate of a typed Evaluate, with gate.sh running for real', () => {
  test('a model above its thresholds is approved: the gate writes the verdict, its downstream runs, the run succeeds (exit 0)', async () => {
    const { r, status } = await run({ steps: { evaluate: metrics({ auc: 0.86, logloss: 0.31 }) } });
    expectClean(r);
    const gate = r.steps['evaluate-gate'];
    expect(gate.outcome).toBe('complete');
    expect(gate.annotations?.['mlops.cdk8s.io/verdict']).toBe('approved');
    expect(r.steps.deploy.outcome).toBe('complete');
    expect(r.steps.deploy.startedAt!).toBeGreaterThanOrEqual(gate.finishedAt!);
    expect(r.exitCode).toBe(0);
    // The gate's pod: one container run as the reporter ServiceAccount, a GET and a PATCH of its own Job.
    expect(r.containers.map((k) => [k.step, k.container, k.exitCode])).toEqual([['evaluate-gate', 'gate', 0]]);
    expect(r.containers[0].kubectl.flatMap((c) => c.requests).filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.name} ${q.code}`))
      .toEqual([`get ${gate.job} 200`, `patch ${gate.job} 200`]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^pipeline churn \(namespace ml\): succeeded/);
  });

  test('a model below a threshold is rejected: downstream skipped with the reason and the numbers, the gate not retried, the run "rejected" with exit 4', async () => {
    const { r, status } = await run({ steps: { evaluate: metrics({ auc: 0.74, logloss: 0.31 }) } });
    expectClean(r);
    const gate = r.steps['evaluate-gate'];
    const reason = 'auc 0.74 < 0.8 (no baseline yet: absolute thresholds only)';
    expect(gate.annotations?.['mlops.cdk8s.io/verdict']).toBe(`rejected: ${reason}`);
    expect(gate.pods).toHaveLength(1);
    expect(r.steps.deploy.pods).toEqual([]);
    expect(r.steps.deploy.skipped).toBe(`gate rejected: ${reason}`);
    expect(r.ledger?.states).toMatchObject({ evaluate: 'complete', 'evaluate-gate': 'rejected', deploy: 'skipped' });
    expect(r.ledger?.notes).toEqual({ 'evaluate-gate': reason });
    expect(r.exitCode).toBe(4);
    expect(r.coordinator.outcome).toBe('Failed: PodFailurePolicy');
    expect(r.coordinator.runs).toHaveLength(1);
    expect(r.coordinator.stdout).toMatch(/run finished after \d+s: rejected; 4 of 6 steps complete/);
    expect(r.coordinator.stdout).toMatch(/evaluate-gate\s+rejected\s+auc 0\.74 < 0\.8 \(no baseline yet/);
    expect(status.code).toBe(4);
    expect(status.stdout).toMatch(/^pipeline churn \(namespace ml\): rejected/);
    expect(status.stdout).toContain(`gate rejected: ${reason}`);
  });

  test('an evaluation that crashes is a failure, retried as its retries say: the gate never runs, the run fails with exit 3', async () => {
    const { r, status } = await run({ steps: { evaluate: { durations: [10], exitCodes: [1] } } });
    expectClean(r);
    expect(r.steps.evaluate.outcome).toBe('failed');
    expect(r.steps.evaluate.attempts).toBe(3);
    expect(r.steps['evaluate-gate'].pods).toEqual([]);
    expect(r.steps.deploy.skipped).toBe("upstream step 'evaluate' failed: BackoffLimitExceeded");
    expect(r.containers).toEqual([]);
    expect(r.exitCode).toBe(3);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^pipeline churn \(namespace ml\): failed/);
  });

  test('an evaluation that exits 0 without metrics.json: the gate crashes (exit 3), fails at once without a retry, and the run fails', async () => {
    const { r } = await run({ steps: { evaluate: { durations: [10] } } });
    expectClean(r);
    const gate = r.steps['evaluate-gate'];
    expect(gate.outcome).toBe('failed');
    expect(gate.reason).toBe('PodFailurePolicy');
    expect(gate.pods).toHaveLength(1);
    expect(r.containers[0].exitCode).toBe(3);
    expect(r.containers[0].stderr).toMatch(/^gate: \/mnt\/workspace\/churn\/evaluate-\w+\/metrics\/metrics\.json is missing/);
    expect(gate.annotations?.['mlops.cdk8s.io/verdict']).toBeUndefined();
    expect(r.steps.deploy.skipped).toBe("upstream step 'evaluate-gate' failed: PodFailurePolicy");
    expect(r.exitCode).toBe(3);
  });

  test('the first model (a baseline threshold, no baseline yet) is judged on absolute thresholds only, and the verdict detail says so', async () => {
    const { r } = await run({ baseline: true, steps: { evaluate: metrics({ auc: 0.85, logloss: 0.31 }) } });
    expectClean(r);
    const gate = r.steps['evaluate-gate'];
    expect(gate.annotations?.['mlops.cdk8s.io/verdict']).toBe('approved');
    expect(gate.annotations?.['mlops.cdk8s.io/verdict-detail'])
      .toBe('no baseline yet: judged on absolute thresholds only; auc 0.85 >= 0.8; logloss 0.31 <= 0.5; skipped: auc (no baseline yet)');
    expect(r.exitCode).toBe(0);
  });

  test('once the baseline exists on its claim, a model worse than it by more than the tolerance is rejected', async () => {
    const { r } = await run({
      baseline: true,
      claims: { 'model-registry': { 'churn/current/metrics.json': '{"auc": 0.9}' } },
      steps: { evaluate: metrics({ auc: 0.85, logloss: 0.31 }) },
    });
    expectClean(r);
    const gate = r.steps['evaluate-gate'];
    expect(gate.annotations?.['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.85 < baseline 0.9 - 0.01');
    expect(gate.annotations?.['mlops.cdk8s.io/verdict-detail'])
      .toBe('compared with model-registry:/churn/current/metrics.json; auc 0.85 >= 0.8; logloss 0.31 <= 0.5; auc 0.85 < baseline 0.9 - 0.01');
    expect(r.exitCode).toBe(4);
  });
});
