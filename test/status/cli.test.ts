import { main, USAGE } from '../../src/cli/main';
import { STATUS_USAGE } from '../../src/cli/status';
import { ReadJobsError } from '../../src/status/read-jobs';
import { coordinatorJob, list, stepJob, T0 } from './jobs';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  reads: number;
  sleeps: number[];
}

/** Runs `status` against a scripted sequence of Job lists; the clock moves 30 s per refresh. */
async function run(argv: string[], lists: (unknown | Error)[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const r: Run = { code: -1, stdout: '', stderr: '', reads: 0, sleeps: [] };
  r.code = await main(['status', ...argv], {
    out: (t) => { r.stdout += t; },
    err: (t) => { r.stderr += t; },
    now: () => new Date(T0.getTime() + r.reads * 30_000),
    sleep: async (ms) => { r.sleeps.push(ms); },
    env,
    readJobs: async () => {
      const next = lists[Math.min(r.reads++, lists.length - 1)];
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return r;
}

const midRun = list(coordinatorJob(), stepJob('ingest', { released: true, started: 0, active: 1 }), stepJob('train', { after: ['ingest'] }));
const trainRunning = list(coordinatorJob({ ledger: ['ingest'] }), stepJob('ingest', { released: true, started: 0, completed: 40 }), stepJob('train', { after: ['ingest'], released: true, started: 45, active: 1 }));
const failed = list(
  coordinatorJob({ failed: { at: 100, exitCode: 3 }, ledger: ['ingest'] }),
  stepJob('ingest', { released: true, started: 0, completed: 40 }),
  stepJob('train', { after: ['ingest'], released: true, started: 45, failed: { at: 95, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } }),
);
const succeeded = list(coordinatorJob({ completed: 100, ledger: ['ingest', 'train'] }), stepJob('ingest', { released: true, started: 0, completed: 40 }), stepJob('train', { after: ['ingest'], released: true, started: 45, completed: 90 }));
const rejected = list(
  coordinatorJob({ failed: { at: 100, exitCode: 4 }, ledger: ['ingest'] }),
  stepJob('ingest', { released: true, started: 0, completed: 40 }),
  stepJob('train', { after: ['ingest'], released: true, started: 45, completed: 90, annotations: { 'mlops.cdk8s.io/verdict': 'rejected: auc 0.7' } }),
);

describe('cdk8s-mlops status', () => {
  test.each([
    ['still running', midRun, 1],
    ['failed', failed, 3],
    ['rejected', rejected, 4],
    ['succeeded', succeeded, 0],
  ])('one look at a run that %s exits %i', async (_what, jobs, code) => {
    const r = await run(['churn', '-n', 'ml'], [jobs]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(code);
    expect(r.reads).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^pipeline churn \(namespace ml\): (running|failed|rejected|succeeded), elapsed /);
  });

  test('--watch refreshes until the run ends, printing when a step changes, and exits with its outcome', async () => {
    const r = await run(['churn', '-n', 'ml', '--watch', '--interval', '7'], [midRun, midRun, trainRunning, failed]);
    expect(r.code).toBe(3);
    expect(r.reads).toBe(4);
    expect(r.sleeps).toEqual([7000, 7000, 7000]);
    const blocks = r.stdout.split(/(?=^pipeline churn)/m);
    expect(blocks.map((b) => b.split('\n')[0])).toEqual([
      'pipeline churn (namespace ml): running, elapsed 30s',
      'pipeline churn (namespace ml): running, elapsed 1m 30s',
      'pipeline churn (namespace ml): failed, elapsed 1m 40s',
    ]);
    expect(blocks[2]).toContain('run failed: step train failed (BackoffLimitExceeded: Job has reached the specified backoff limit)\n');
  });

  test('--watch waits for the pipeline to be applied and retries a failed read, then gives up after three', async () => {
    const flaky = new ReadJobsError('kubectl get jobs failed: connection refused');
    const r = await run(['churn', '--watch'], [list(), flaky, succeeded]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('no Job of pipeline churn in the current namespace yet; waiting for it to be applied');
    expect(r.stderr).toBe('error: kubectl get jobs failed: connection refused\n');
    const down = await run(['churn', '--watch'], [flaky]);
    expect(down.code).toBe(5);
    expect(down.reads).toBe(3);
  });

  test('without --watch, no Job of the pipeline exits 5 naming where it looked', async () => {
    const r = await run(['churn'], [list()]);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('error: no Job of pipeline churn in the current namespace; apply the pipeline, or pass -n <namespace>\n');
  });

  test('a kubectl that is not installed exits 5 with how to fix it', async () => {
    let stderr = '';
    const code = await main(['status', 'churn'], { err: (t) => { stderr += t; }, out: () => {}, env: { MLOPS_KUBECTL: '/nonexistent/kubectl' } });
    expect(code).toBe(5);
    expect(stderr).toBe('error: cannot run /nonexistent/kubectl: not found; install kubectl or set MLOPS_KUBECTL to its path\n');
  });

  test('the real kubectl with no cluster to talk to exits 5 with its own error', async () => {
    let stderr = '';
    const kubectl = '/usr/lib/google-cloud-sdk/bin/kubectl.1.28';
    const code = await main(['status', 'churn', '-n', 'ml'], { err: (t) => { stderr += t; }, out: () => {}, env: { MLOPS_KUBECTL: kubectl } });
    expect(code).toBe(5);
    expect(stderr).toMatch(new RegExp(`^error: ${kubectl} get jobs -l mlops.cdk8s.io/pipeline=churn -o json --chunk-size=0 -n ml failed: .*(refused|connect)`));
  });

  test.each([
    [[], 'give the pipeline\'s name'],
    [['churn', 'sweep'], 'give one pipeline, not "churn" and "sweep"'],
    [['churn,x!=y'], 'pipeline "churn,x!=y" is not a valid name: use only lowercase letters, digits and \'-\', starting and ending with a letter or digit'],
    [['churn', '-n', '--all'], 'namespace "--all" is not a valid name: use only lowercase letters, digits and \'-\', starting and ending with a letter or digit'],
    [['churn', '--interval', '0'], '--interval takes whole seconds from 1 to 3600, not "0"'],
    [['churn', '--bogus'], 'unknown option --bogus'],
  ])('bad invocation %j exits 2 with the usage', async (argv, message) => {
    const r = await run(argv, [midRun]);
    expect(r.code).toBe(2);
    expect(r.reads).toBe(0);
    expect(r.stderr).toBe(`cdk8s-mlops status: ${message}\n\n${STATUS_USAGE}`);
  });

  test('--help documents the exit codes; the main help lists status', async () => {
    const r = await run(['--help'], []);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(STATUS_USAGE);
    expect(STATUS_USAGE).toContain('exit codes: 0 the run succeeded; 1 it is still running (without --watch); 2 bad\ninvocation; 3 the run failed; 4 a gate rejected the model; 5 the Jobs could not be read');
    expect(USAGE).toContain('  status <pipeline> [-n ns]    each step\'s state in the cluster, read with your kubectl;\n');
  });
});
