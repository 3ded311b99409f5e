import { simulate } from '../../src/verify/simulator';
import { dag, expectClean, synthPipeline } from './fixtures';

describe('a failed step stops everything downstream and nothing else', () => {
  test('a failing step: descendants never start and name it; an unrelated branch finishes; exit 3', async () => {
    const steps = dag('prep->train->evaluate->deploy prep->report', { train: { retries: 1 } });
    const r = await simulate(synthPipeline({ steps }), {
      steps: { prep: { durations: [10] }, train: { durations: [20], exitCodes: [1] }, report: { durations: [120] } },
    });
    expectClean(r);
    const { train, evaluate, deploy, report } = r.steps;
    expect(train.outcome).toBe('failed');
    expect(train.reason).toBe('BackoffLimitExceeded');
    expect(train.attempts).toBe(2);
    for (const s of [evaluate, deploy]) {
      expect(s.pods).toEqual([]);
      expect(s.releases).toEqual([]);
      expect(s.outcome).toBe('skipped');
      // The grandchild names the root failure, not its skipped parent.
      expect(s.skipped).toBe("upstream step 'train' failed: BackoffLimitExceeded");
    }
    // Marked within one poll of the failure, long before the unrelated branch ends.
    const marked = r.events.find((e) => e.job === deploy.job && e.what.startsWith('mlops.cdk8s.io/skipped'))!;
    expect(marked.at - train.finishedAt!).toBeLessThanOrEqual(10);
    expect(report.outcome).toBe('complete');
    expect(report.finishedAt!).toBeGreaterThan(marked.at);
    expect(r.exitCode).toBe(3);
    expect(r.coordinator.outcome).toBe('Failed: PodFailurePolicy');
    expect(r.coordinator.stdout).toContain("skipped evaluate: upstream step 'train' failed: BackoffLimitExceeded");
    expect(r.coordinator.stdout).toMatch(/train\s+failed\s+BackoffLimitExceeded/);
  });

  test('retries: a step that fails twice then succeeds with backoffLimit 2 completes, with back-off between attempts', async () => {
    const steps = dag('prep->train->evaluate', { train: { retries: 2 } });
    const r = await simulate(synthPipeline({ steps }), { steps: { train: { durations: [15], exitCodes: [1, 1, 0] } } });
    expectClean(r);
    const { train, evaluate } = r.steps;
    expect(train.outcome).toBe('complete');
    expect(train.pods.map((p) => p.exitCode)).toEqual([1, 1, 0]);
    expect(train.attempts).toBe(3);
    // The Job controller's back-off: 10 s after the first failure, 20 s after the second.
    const [p1, p2, p3] = train.pods;
    expect(p2.startedAt! - p1.endedAt!).toBe(10);
    expect(p3.startedAt! - p2.endedAt!).toBe(20);
    expect(train.releases).toHaveLength(1);
    expect(evaluate.startedAt!).toBeGreaterThanOrEqual(train.finishedAt!);
    expect(r.exitCode).toBe(0);
  });

  test('a step past its activeDeadlineSeconds fails with DeadlineExceeded, counted from its release, not its creation', async () => {
    const steps = dag('prep->train->evaluate', { train: { timeoutSeconds: 50, retries: 3 } });
    const r = await simulate(synthPipeline({ steps }), { steps: { prep: { durations: [60] }, train: { durations: [200] } } });
    expectClean(r);
    const { train, evaluate } = r.steps;
    expect(train.outcome).toBe('failed');
    expect(train.reason).toBe('DeadlineExceeded');
    // Waiting behind prep for 60 s did not use up the 50 s.
    expect(train.releasedAt).toBe(60);
    expect(train.finishedAt).toBe(train.releasedAt! + 50);
    expect(train.pods[0].end).toBe('job-finished');
    expect(evaluate.pods).toEqual([]);
    expect(evaluate.skipped).toBe("upstream step 'train' failed: DeadlineExceeded");
    expect(r.exitCode).toBe(3);
  });

  test('an evaluation below its threshold exits non-zero: it fails after its retries and nothing downstream starts', async () => {
    const steps = dag('train->evaluate->deploy train->publish-metrics', { evaluate: { retries: 1 } });
    const r = await simulate(synthPipeline({ steps }), { steps: { evaluate: { durations: [12], exitCodes: [1] } } });
    expectClean(r);
    const { evaluate, deploy } = r.steps;
    expect(evaluate.outcome).toBe('failed');
    expect(evaluate.reason).toBe('BackoffLimitExceeded');
    expect(evaluate.pods.map((p) => p.exitCode)).toEqual([1, 1]);
    expect(deploy.pods).toEqual([]);
    expect(deploy.releases).toEqual([]);
    expect(deploy.skipped).toBe("upstream step 'evaluate' failed: BackoffLimitExceeded");
    expect(r.steps['publish-metrics'].outcome).toBe('complete');
    expect(r.exitCode).toBe(3);
  });

  test('the whole-run deadline suspends running steps, marks pending ones and exits 3', async () => {
    const steps = dag('ingest->train->evaluate ingest->stats');
    const r = await simulate(synthPipeline({ steps, runDeadlineSeconds: 100 }), {
      steps: { ingest: { durations: [60] }, train: { durations: [100] }, evaluate: { durations: [10] }, stats: { durations: [30] } },
    });
    expectClean(r);
    const { ingest, train, evaluate, stats } = r.steps;
    expect(ingest.outcome).toBe('complete');
    expect(stats.outcome).toBe('complete');
    expect(train.outcome).toBe('skipped');
    expect(train.suspensions).toEqual([100]);
    expect(train.pods[0].end).toBe('suspended');
    expect(train.pods[0].endedAt).toBe(100);
    expect(train.skipped).toBe('run deadline of 100s exceeded');
    expect(evaluate.skipped).toBe('run deadline of 100s exceeded');
    expect(evaluate.pods).toEqual([]);
    expect(r.exitCode).toBe(3);
    expect(r.coordinator.runs[0].endedAt).toBe(100);
    expect(r.coordinator.stdout).toContain('suspended train: run deadline of 100s exceeded');
  });
});
