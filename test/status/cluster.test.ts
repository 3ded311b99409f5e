import { main } from '../../src/cli/main';
import { ManifestObject } from '../../src/verify/simulator';
import { dag, synthPipeline } from '../simulation/fixtures';
import { apiFixture, realKubectl } from '../support/kubectl';

/**
 * `cdk8s-mlops status` end to end: the real kubectl, over HTTPS, against the simulated API
 * server, whose Job controller model runs the pods. The test does what the coordinator does
 * (docs/ordering.md: release, ledger, skip) with the same merge patches, at chosen times,
 * so status is read mid-run and after the run.
 */
describe('cdk8s-mlops status against the simulated cluster', () => {
  const objects = synthPipeline({ steps: dag('a->b->c') });
  const jobOf = (step: string) => objects.find((o) => o.kind === 'Job' && o.metadata.labels?.['mlops.cdk8s.io/step'] === step)!.metadata.name;
  const coordinator = objects.find((o) => o.kind === 'Job' && o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator')!.metadata.name;
  // Step b's pod exits 1 (no retries: the Job fails); the coordinator's process exits 3 at 100 s, as it does after a failure.
  const behaviour = (job: ManifestObject) => {
    if (job.metadata.name === coordinator) return { durations: [100], exitCodes: [3] };
    if (job.metadata.name === jobOf('b')) return { durations: [10], exitCodes: [1] };
    return { durations: [10] };
  };

  test('mid-run it shows who runs and who waits on whom (exit 1); after the failed run, the failure and the skip reason (exit 3)', async () => {
    const f = await apiFixture(objects, undefined, undefined, behaviour);
    try {
      const start = f.cluster.now;
      const status = async (...argv: string[]) => {
        let stdout = '';
        let stderr = '';
        const code = await main(['status', 'demo', ...argv], {
          out: (t) => { stdout += t; },
          err: (t) => { stderr += t; },
          now: () => new Date(f.cluster.now * 1000),
          env: { MLOPS_KUBECTL: realKubectl().path, KUBECONFIG: f.config, HOME: f.home, PATH: '/usr/bin:/bin' },
        });
        return { code, stdout, stderr };
      };

      f.cluster.patch('ml', jobOf('a'), { spec: { suspend: false } });
      f.cluster.step(start + 5);
      const mid = await status('-n', 'ml');
      expect(mid.stderr).toBe('');
      expect(mid.code).toBe(1);
      expect(mid.stdout).toBe([
        'pipeline demo (namespace ml): running, elapsed 5s',
        '  a     running   since 22:13:20Z (5s), 1 pod active',
        '  b     waiting   on a (running)',
        '  c     waiting   on b (waiting)',
        'critical path a -> b -> c: 5s of step run time in 5s elapsed',
        '',
      ].join('\n'));

      f.cluster.step(start + 10);
      f.cluster.patch('ml', coordinator, { metadata: { annotations: { 'mlops.cdk8s.io/completed': 'a' } } });
      f.cluster.patch('ml', jobOf('b'), { spec: { suspend: false } });
      f.cluster.step(start + 30);
      f.cluster.patch('ml', jobOf('c'), { metadata: { annotations: { 'mlops.cdk8s.io/skipped': "upstream step 'b' failed: BackoffLimitExceeded" } } });
      f.cluster.step(start + 100);

      const end = await status('-n', 'ml', '--watch');
      expect(end.stderr).toBe('');
      expect(end.code).toBe(3);
      const lines = end.stdout.split('\n');
      expect(lines[0]).toBe('pipeline demo (namespace ml): failed, elapsed 1m 40s');
      expect(lines[1]).toBe('  a     complete  in 10s');
      expect(lines[2]).toMatch(/^ {2}b {5}failed {4}BackoffLimitExceeded: Job has reached the specified backoff limit$/);
      expect(lines[3]).toBe("  c     skipped   upstream step 'b' failed: BackoffLimitExceeded");
      expect(lines[5]).toMatch(/^run failed: step b failed \(BackoffLimitExceeded/);
      // One list per refresh, with the pipeline's selector, and nothing but reads.
      const apiCalls = f.requests.filter((q) => q.verb !== 'discovery');
      expect(apiCalls.map((q) => `${q.verb} ${q.url} ${q.code}`)).toEqual([
        'list /apis/batch/v1/namespaces/ml/jobs?labelSelector=mlops.cdk8s.io%2Fpipeline%3Ddemo 200',
        'list /apis/batch/v1/namespaces/ml/jobs?labelSelector=mlops.cdk8s.io%2Fpipeline%3Ddemo 200',
      ]);
    } finally {
      f.close();
    }
  });
});
