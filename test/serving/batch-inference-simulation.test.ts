import { Testing } from 'cdk8s';
import { hourlyScoring } from '../../examples/scoring/pipeline';
import { ManifestObject, simulate, SimulationResult } from '../../src/verify/simulator';

/**
 * Example 3 in the simulated cluster: the weekly retraining's CronJob and the hourly
 * BatchInference's fire as the CronJob controller would (src/verify/simulator/cronjob-controller.ts).
 * The library's containers run for real (the prelude, the coordinator and gate.sh with the
 * real kubectl; the BatchInference's `pick-version` script in bash on a sandbox registry
 * claim); the user's containers (training, scoring, publishing) are modelled and leave the
 * files they declare on the claims.
 */
const MONDAY_0200 = 1_799_028_000; // Mon 4 Jan 2027 02:00 UTC: scoring at 02:05 and 03:05, retraining at 03:00
const minute = (t: number) => Math.floor((MONDAY_0200 + t) / 60);
const scoringRun = (t: number) => `churn-scores-${minute(t)}`;

function example(): ManifestObject[] {
  const app = Testing.app();
  const { retrain, scoring } = hourlyScoring(app);
  return [...Testing.synth(retrain), ...Testing.synth(scoring)] as ManifestObject[];
}

const scores = { durations: [120], files: { '$OUTPUT_PATH/scores.csv': 'customer,score\n' } };
const picks = (r: SimulationResult) => r.containers.filter((k) => k.container === 'pick-version').map((k) => ({ job: k.job, exitCode: k.exitCode, stdout: k.stdout, stderr: k.stderr }));

test('each hour scores with the newest ready version: an incomplete newer one is passed over, a newly approved one is used from the next hour', async () => {
  const r = await simulate(example(), {
    startTime: MONDAY_0200, namespace: 'ml-churn', runs: { until: 3900 },
    // An earlier approved version 3, and version 4 still being written (no READY).
    claims: { 'churn-models': { 'churn/3/model.bin': 'v3', 'churn/3/READY': '', 'churn/4/model.bin': 'half of v4' } },
    steps: {
      fetch: { durations: [20] }, features: { durations: [20] }, train: { durations: [40] },
      evaluate: { durations: [20], files: { '$MLOPS_OUTPUT_METRICS/metrics.json': '{"auc": 0.87}' } },
      // The publishing step (modelled) writes version 5, READY last.
      publish: { durations: [10], files: { '/mnt/registry/churn/5/model.bin': 'v5', '/mnt/registry/churn/5/READY': '' } },
    },
    cronJobs: { 'churn-scores': scores },
  });
  expect(r.errors).toEqual([]);
  // The retraining run approved its model and published it before 03:05.
  const [retrainRun] = r.coordinators;
  expect(retrainRun.exitCode).toBe(0);
  expect(retrainRun.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('approved');
  expect(retrainRun.steps.publish.finishedAt!).toBeLessThan(3900);
  expect(picks(r)).toEqual([
    { job: scoringRun(300), exitCode: 0, stdout: 'serving version 3 of /models/churn\n', stderr: '' },
    { job: scoringRun(3900), exitCode: 0, stdout: 'serving version 5 of /models/churn\n', stderr: '' },
  ]);
  // One folder per scheduled hour: the second run did not overwrite the first.
  expect(Object.keys(r.claims['churn-scores']).sort()).toEqual([`hourly/${scoringRun(300)}/scores.csv`, `hourly/${scoringRun(3900)}/scores.csv`]);
  for (const t of [300, 3900]) expect(r.events).toContainEqual({ at: t + 120, job: scoringRun(t), what: 'Complete' });
});

test('no ready version: the run fails at once with the reason, is not retried, and scores nothing', async () => {
  const r = await simulate(example(), {
    startTime: MONDAY_0200, namespace: 'ml-churn', runs: { until: 300 },
    claims: { 'churn-models': { 'churn/4/model.bin': 'half of v4' } },
    cronJobs: { 'churn-scores': scores },
  });
  expect(r.errors).toEqual([]);
  expect(picks(r)).toEqual([{
    job: scoringRun(300), exitCode: 3, stdout: '',
    stderr: 'no ready version of any number under /models/churn (without READY, still being written: 4): nothing to load; publish an approved version, or pin one that is ready\n',
  }]);
  const events = r.events.filter((e) => e.job === scoringRun(300)).map((e) => e.what);
  expect(events).toContain('Failed: PodFailurePolicy');
  expect(events.filter((w) => /^pod .* started$/.test(w))).toHaveLength(1);
  expect(r.claims['churn-scores'] ?? {}).toEqual({});
});
