import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { ManifestObject, ObserverView, simulate, SimulateOptions } from '../../src/verify/simulator';
import { dag, synthPipeline } from '../simulation/fixtures';
import { behaviour, sweepPipeline } from '../simulation/sweep-fixture';
import { branchPipeline } from '../values/fixtures';
import { Testing } from 'cdk8s';
import { realKubectl } from '../support/kubectl';

/**
 * `cdk8s-mlops status` end to end: the pipeline's own coordinator runs in the simulated
 * cluster, and status reads it as a user would, with the real kubectl over HTTPS, mid-run and
 * after the run. The user may only list Jobs in the namespace, as a read-only CI token would.
 */
const READER = 'status-reader';
const LIST_JOBS = { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] };
const GET_CONFIGMAPS = { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] };
const readerRbac = (rules: object[] = [LIST_JOBS, GET_CONFIGMAPS]): ManifestObject[] => [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: READER, namespace: 'ml' },
    rules,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: READER, namespace: 'ml' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: READER },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: READER }],
  },
];

type Seen = { code: number; stdout: string; stderr: string };

/** Runs `cdk8s-mlops status <pipeline> -n ml` with the real kubectl against the simulation. */
async function status(view: ObserverView, pipeline = 'demo'): Promise<Seen> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-status-'));
  try {
    fs.writeFileSync(path.join(home, 'kubeconfig'), view.kubeconfig);
    let stdout = '';
    let stderr = '';
    const code = await main(['status', pipeline, '-n', 'ml'], {
      out: (t) => { stdout += t; },
      err: (t) => { stderr += t; },
      now: () => new Date(view.now * 1000),
      env: { MLOPS_KUBECTL: realKubectl().path, KUBECONFIG: path.join(home, 'kubeconfig'), HOME: home, PATH: '/usr/bin:/bin' },
    });
    return { code, stdout, stderr };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Simulates the a->b->c a->d pipeline with b failing, looking with status at 5 s and after the run. */
async function observedRun(rbac: ManifestObject[], o: { ttlSeconds?: number; steps?: SimulateOptions['steps'] } = {}) {
  const seen: Record<'mid' | 'end', Seen | undefined> = { mid: undefined, end: undefined };
  const r = await simulate([...synthPipeline({ steps: dag('a->b->c a->d'), ttlSeconds: o.ttlSeconds }), ...rbac], {
    namespace: 'ml',
    steps: o.steps ?? { b: { durations: [10], exitCodes: [1] } },
    observer: {
      user: READER,
      at: [5],
      look: async (view) => {
        seen[view.final ? 'end' : 'mid'] = await status(view);
      },
    },
  });
  return { r, mid: seen.mid!, end: seen.end! };
}

describe('cdk8s-mlops status against the simulated cluster', () => {
  test('mid-run: who runs since when and who waits on whom (exit 1); after a failed run: the failure and the skip reason (exit 3)', async () => {
    const { r, mid, end } = await observedRun(readerRbac());
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(3);

    expect(mid.stderr).toBe('');
    expect(mid.code).toBe(1);
    expect(mid.stdout).toBe([
      'pipeline demo (namespace ml): running, elapsed 5s',
      '  a     running   since 22:13:20Z (5s), 1 pod active',
      '  b     waiting   on a (running)',
      '  d     waiting   on a (running)',
      '  c     waiting   on b (waiting)',
      'critical path a -> b -> c: 5s of step run time in 5s elapsed',
      '',
    ].join('\n'));

    expect(end.stderr).toBe('');
    expect(end.code).toBe(3);
    const lines = end.stdout.split('\n');
    expect(lines[0]).toMatch(/^pipeline demo \(namespace ml\): failed, elapsed \d+s$/);
    expect(lines.slice(1, 5)).toEqual([
      '  a     complete  in 10s',
      '  b     failed    BackoffLimitExceeded: Job has reached the specified backoff limit',
      '  d     complete  in 10s',
      "  c     skipped   upstream step 'b' failed: BackoffLimitExceeded",
    ]);
    expect(lines[6]).toBe('run failed: step b failed (BackoffLimitExceeded: Job has reached the specified backoff limit)');
  });

  test('after TTL deleted the finished Jobs, the plan and the ledger still tell each step\'s outcome and reason', async () => {
    // a and b finish early and their Jobs are deleted 120 s later; d runs on past that.
    const { r, end } = await observedRun(readerRbac(), { ttlSeconds: 120, steps: { b: { durations: [10], exitCodes: [1] }, d: { durations: [300] } } });
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(3);
    expect([r.steps.a.deletedAt, r.steps.b.deletedAt].every((t) => t !== undefined && t < r.steps.d.finishedAt!)).toBe(true);
    expect(end.stderr).toBe('');
    expect(end.code).toBe(3);
    const lines = end.stdout.split('\n');
    expect(lines.slice(1, 5)).toEqual([
      '  a     complete  its Job is gone (TTL); the coordinator recorded it complete',
      '  b     failed    BackoffLimitExceeded',
      '  d     complete  in 5m 00s',
      "  c     skipped   upstream step 'b' failed: BackoffLimitExceeded",
    ]);
    expect(lines[6]).toBe('run failed: step b failed (BackoffLimitExceeded)');
  });

  test('a user who may list Jobs but not read ConfigMaps still gets the run, with a note on what it cannot tell', async () => {
    const { end } = await observedRun(readerRbac([LIST_JOBS]));
    expect(end.code).toBe(3);
    expect(end.stderr).toMatch(/^note: cannot read the plan \(ConfigMap demo-coordinator-[0-9a-f]{8}\), so steps whose Jobs were deleted \(TTL\) show as missing: .*Error from server \(Forbidden\): configmaps "demo-coordinator-[0-9a-f]{8}" is forbidden: User "status-reader" cannot get resource "configmaps" in API group "" in the namespace "ml"\n$/);
    expect(end.stdout.split('\n')[2]).toBe('  b     failed    BackoffLimitExceeded: Job has reached the specified backoff limit');
  });

  test('a user who may not list Jobs gets kubectl\'s Forbidden and exit 5', async () => {
    const { mid } = await observedRun([]);
    expect(mid.code).toBe(5);
    expect(mid.stderr).toContain('Error from server (Forbidden): jobs.batch is forbidden: User "status-reader" cannot list resource "jobs" in API group "batch" in the namespace "ml"');
  });
});

/** Simulates `objects` and runs status on `pipeline` once the run is over. */
async function statusAfter(objects: ManifestObject[], pipeline: string, steps: SimulateOptions['steps']): Promise<Seen> {
  let end: Seen | undefined;
  const r = await simulate([...objects, ...readerRbac()], {
    namespace: 'ml',
    steps,
    observer: { user: READER, at: [], look: async (view) => { if (view.final) end = await status(view, pipeline); } },
  });
  expect(r.errors).toEqual([]);
  return end!;
}

describe('status shows why a step failed or was skipped, as the coordinator decided it', () => {
  test('a value over the size limit: the reporter\'s reason on the failed step, not the Job controller\'s, and in its downstream\'s skip', async () => {
    const values = { accuracy: '0.91', url: 'https://models.acme/churn/7', promoted: 'true', report: JSON.stringify({ rows: 'x'.repeat(5000) }) };
    const end = await statusAfter(Testing.synth(branchPipeline(Testing.app()).p) as ManifestObject[], 'branch', {
      train: { files: Object.fromEntries(Object.entries(values).map(([k, v]) => [`$MLOPS_VALUES/${k}`, v])) },
    });
    const reason = "value 'report' is 5011 bytes, over the limit of 4096 bytes for all values of a step together; write large results to an artifact";
    expect(end.stderr).toBe('');
    expect(end.code).toBe(3);
    const lines = end.stdout.split('\n');
    expect(lines.slice(1, 5)).toEqual([
      `  train     failed    ${reason}`,
      `  deploy    skipped   upstream step 'train' failed: ${reason}`,
      `  retrain   skipped   upstream step 'train' failed: ${reason}`,
      // none-failed: its upstreams were skipped, none failed.
      '  announce  complete  in 10s',
    ]);
    expect(lines[6]).toBe(`run failed: step train failed (${reason})`);
  });

  test('a sweep over its failure budget: each failed trial says so, and the run\'s reason names the group and its failures', async () => {
    const end = await statusAfter(sweepPipeline(), 'hpo', behaviour([1, 4, 6, 9]));
    expect(end.stderr).toBe('');
    expect(end.code).toBe(3);
    const line = (step: string) => end.stdout.split('\n').find((l) => l.startsWith(`  ${step} `))!.replace(/ +/g, ' ');
    expect(line('tune-trial-4')).toBe(' tune-trial-4 failed BackoffLimitExceeded: Job has reached the specified backoff limit; over the failure budget of tune (4 failed, 3 allowed)');
    expect(line('tune-trial-5')).toMatch(/^ tune-trial-5 complete in \d+s$/);
    expect(line('tune-select')).toBe(' tune-select failed BackoffLimitExceeded: Job has reached the specified backoff limit');
    expect(line('deploy')).toBe(" deploy skipped upstream step 'tune-select' failed: BackoffLimitExceeded");
    expect(end.stdout.trimEnd().split('\n').pop()).toBe('run failed: 4 of 12 steps of tune failed, over its failure budget of 3: tune-trial-1, tune-trial-4, tune-trial-6, tune-trial-9; '
      + 'step tune-select failed (BackoffLimitExceeded: Job has reached the specified backoff limit)');
  });
});
