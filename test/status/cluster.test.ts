import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { ManifestObject, ObserverView, simulate, SimulateOptions } from '../../src/verify/simulator';
import { dag, synthPipeline } from '../simulation/fixtures';
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

/** Runs `cdk8s-mlops status demo -n ml ...` with the real kubectl against the simulation. */
async function status(view: ObserverView, ...argv: string[]): Promise<Seen> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-status-'));
  try {
    fs.writeFileSync(path.join(home, 'kubeconfig'), view.kubeconfig);
    let stdout = '';
    let stderr = '';
    const code = await main(['status', 'demo', '-n', 'ml', ...argv], {
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
