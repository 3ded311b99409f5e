import { Testing } from 'cdk8s';
import { churnPipeline } from '../../examples/churn/pipeline';
import { ManifestObject, simulate } from '../../src/verify/simulator';
import { expectClean } from './fixtures';

describe('the churn example runs as synthesized', () => {
  const objects = () => Testing.synth(churnPipeline(Testing.app())) as ManifestObject[];

  test('to completion: profile and features overlap, evaluate waits for all three of its inputs', async () => {
    const r = await simulate(objects(), {
      steps: { ingest: { durations: [20], exitCodes: [1, 0] }, profile: { durations: [25] }, features: { durations: [30] }, train: { durations: [60] } },
    });
    expectClean(r);
    const { ingest, profile, features, train, evaluate } = r.steps;
    // ingest has retries: 2, so one failed attempt is absorbed.
    expect(ingest.pods.map((p) => p.exitCode)).toEqual([1, 0]);
    expect(profile.startedAt).toBe(features.startedAt);
    expect(train.startedAt!).toBeGreaterThanOrEqual(features.finishedAt!);
    expect(evaluate.startedAt!).toBeGreaterThanOrEqual(Math.max(train.finishedAt!, features.finishedAt!, profile.finishedAt!));
    expect(r.exitCode).toBe(0);
  });

  test('train overrunning its 2 h timeout fails with DeadlineExceeded and evaluate is skipped', async () => {
    // A 10-minute poll keeps a three-hour run quick to simulate.
    const r = await simulate(objects(), { pollSeconds: 600, steps: { train: { durations: [3 * 3600] } } });
    expectClean(r);
    const { train, evaluate } = r.steps;
    expect(train.reason).toBe('DeadlineExceeded');
    expect(train.finishedAt).toBe(train.releasedAt! + 7200);
    expect(evaluate.skipped).toBe("upstream step 'train' failed: DeadlineExceeded");
    expect(evaluate.pods).toEqual([]);
    expect(r.exitCode).toBe(3);
  });
});
