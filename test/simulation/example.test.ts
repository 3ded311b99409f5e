import { Testing } from 'cdk8s';
import { churnPipeline } from '../../examples/churn/pipeline';
import { ManifestObject, simulate } from '../../src/verify/simulator';
import { expectClean } from './fixtures';

/**
 * The churn example as synthesized: the user's containers are modelled (the evaluation
 * writes metrics.json into the workspace), the gate's script runs for real.
 */
describe('the churn example runs as synthesized', () => {
  const objects = () => Testing.synth(churnPipeline(Testing.app()).pipeline) as ManifestObject[];
  const metrics = (auc: number) => ({ files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ auc, logloss: 0.4 }) } });

  test('to completion: profile and features overlap, evaluate waits for train and the split, the gate approves an AUC of 0.86', async () => {
    const r = await simulate(objects(), {
      steps: {
        ingest: { durations: [20], exitCodes: [1, 0] }, profile: { durations: [25] }, features: { durations: [30] }, train: { durations: [60] },
        evaluate: { durations: [15], ...metrics(0.86) },
      },
    });
    expectClean(r);
    const { ingest, profile, features, train, evaluate } = r.steps;
    const gate = r.steps['evaluate-gate'];
    // ingest has retries: 2, so one failed attempt is absorbed.
    expect(ingest.pods.map((p) => p.exitCode)).toEqual([1, 0]);
    expect(profile.startedAt).toBe(features.startedAt);
    expect(train.startedAt!).toBeGreaterThanOrEqual(features.finishedAt!);
    expect(evaluate.startedAt!).toBeGreaterThanOrEqual(Math.max(train.finishedAt!, features.finishedAt!));
    expect(gate.annotations?.['mlops.cdk8s.io/verdict']).toBe('approved');
    expect(gate.annotations?.['mlops.cdk8s.io/verdict-detail']).toBe('absolute thresholds only; auc 0.86 >= 0.8');
    expect(r.exitCode).toBe(0);
  });

  test('a model with an AUC of 0.74 is rejected: the run ends "rejected" (exit 4), not failed', async () => {
    const r = await simulate(objects(), { steps: { evaluate: metrics(0.74) } });
    expectClean(r);
    expect(r.ledger?.states['evaluate-gate']).toBe('rejected');
    expect(r.ledger?.notes).toEqual({ 'evaluate-gate': 'auc 0.74 < 0.8' });
    expect(r.exitCode).toBe(4);
  });

  test('train overrunning its 2 h timeout fails with DeadlineExceeded; evaluate and its gate are skipped', async () => {
    // A 10-minute poll keeps a three-hour run quick to simulate.
    const r = await simulate(objects(), { pollSeconds: 600, steps: { train: { durations: [3 * 3600] } } });
    expectClean(r);
    const { train, evaluate } = r.steps;
    expect(train.reason).toBe('DeadlineExceeded');
    expect(train.finishedAt).toBe(train.releasedAt! + 7200);
    expect(evaluate.skipped).toBe("upstream step 'train' failed: DeadlineExceeded");
    expect(r.steps['evaluate-gate'].skipped).toBe("upstream step 'train' failed: DeadlineExceeded");
    expect(evaluate.pods).toEqual([]);
    expect(r.containers).toEqual([]);
    expect(r.exitCode).toBe(3);
  });
});
