import { Testing } from 'cdk8s';
import { hourlyScoring } from '../../examples/scoring/pipeline';
import { ManifestObject, simulate, SimulateOptions, SimulationResult } from '../../src/verify/simulator';

/**
 * Example 3 in the simulated cluster: the weekly retraining's CronJob and the hourly
 * BatchInference's fire as the CronJob controller would (src/verify/simulator/cronjob-controller.ts).
 * The library's containers run for real: the prelude, the coordinator, gate.sh and the
 * promotion's promote.sh with the real kubectl and bash, and the BatchInference's
 * `pick-version` script, all on the same sandbox registry claim `churn-models`. The user's
 * containers (training, evaluation, scoring) are modelled and leave the files they declare.
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

/** Version 3, published by an earlier promotion (AUC 0.86), and version 4 still being written (no READY). */
const registryBefore = {
  'churn/3/model.joblib': 'model of December',
  'churn/3/lineage.json': JSON.stringify({ model: 'churn', version: 3, metrics: { auc: 0.86 } }),
  'churn/3/READY': '',
  'churn/4/model.joblib': 'half of a model',
};

/** Monday's retraining: the training writes a real model folder, the evaluation its AUC. */
const retraining = (auc: number): SimulateOptions['steps'] => ({
  fetch: { durations: [20] },
  features: { durations: [20] },
  train: { durations: [40], files: { '$MLOPS_OUTPUT_MODEL/model.joblib': 'model of Monday', '$MLOPS_OUTPUT_MODEL/encoders/customer.json': '{"segments": 4}' } },
  evaluate: { durations: [20], files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ auc }) } },
});

async function monday(auc: number): Promise<SimulationResult> {
  return simulate(example(), {
    startTime: MONDAY_0200, namespace: 'ml-churn', runs: { until: 3900 },
    claims: { 'churn-models': registryBefore },
    steps: retraining(auc),
    cronJobs: { 'churn-scores': scores },
  });
}

test('approved: Promote publishes the trained model as version 5, READY and lineage beside it, and the next hour scores with it', async () => {
  const r = await monday(0.87);
  expect(r.errors).toEqual([]);
  const [retrainRun] = r.coordinators;
  expect(retrainRun.exitCode).toBe(0);
  expect(retrainRun.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('approved');
  expect(retrainRun.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict-detail']).toMatch(/^compared with version 3 of churn in registry churn-models; /);
  expect(retrainRun.steps.promote.startedAt!).toBeGreaterThanOrEqual(retrainRun.steps['evaluate-gate'].finishedAt!);
  expect(retrainRun.steps.promote.finishedAt!).toBeLessThan(3900);
  // The real promote.sh: the half-written 4 takes its number, so the new version is 5; 3 was the latest ready one.
  const [promotion] = r.containers.filter((k) => k.step === 'promote');
  expect(promotion).toMatchObject({ exitCode: 0, stderr: '' });
  expect(promotion.stdout).toMatch(/^promote: published \S+\/train\/model as version 5 of churn \(previous ready version: 3\)\n$/);
  const registry = r.claims['churn-models'];
  expect(Object.keys(registry).sort()).toEqual([...Object.keys(registryBefore), 'churn/5/READY', 'churn/5/encoders/customer.json', 'churn/5/lineage.json', 'churn/5/model.joblib'].sort());
  expect(registry['churn/5/model.joblib']).toBe('model of Monday');
  expect(registry['churn/5/encoders/customer.json']).toBe('{"segments": 4}');
  expect(JSON.parse(registry['churn/5/lineage.json'])).toMatchObject({
    model: 'churn', version: 5, run: { pipeline: 'churn-retrain', job: retrainRun.steps.promote.job }, metrics: { auc: 0.87 },
    gate: { step: 'evaluate-gate', verdict: 'approved' }, baseline: { version: 3 },
  });
  // Earlier versions untouched.
  for (const [file, content] of Object.entries(registryBefore)) expect(registry[file]).toBe(content);
  // 02:05 scored with 3 (4 has no READY); 03:05 with the version published at 03:0x.
  expect(picks(r)).toEqual([
    { job: scoringRun(300), exitCode: 0, stdout: 'serving version 3 of /models/churn\n', stderr: '' },
    { job: scoringRun(3900), exitCode: 0, stdout: 'serving version 5 of /models/churn\n', stderr: '' },
  ]);
  // One folder per scheduled hour: the second run did not overwrite the first.
  expect(Object.keys(r.claims['churn-scores']).sort()).toEqual([`hourly/${scoringRun(300)}/scores.csv`, `hourly/${scoringRun(3900)}/scores.csv`]);
  for (const t of [300, 3900]) expect(r.events).toContainEqual({ at: t + 120, job: scoringRun(t), what: 'Complete' });
});

test('rejected: nothing is published, and the next hour still scores with the previous version', async () => {
  // 0.84 passes the absolute 0.8 but is more than 0.01 below version 3's 0.86.
  const r = await monday(0.84);
  expect(r.errors).toEqual([]);
  const [retrainRun] = r.coordinators;
  expect(retrainRun.exitCode).toBe(4);
  expect(retrainRun.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.84 < baseline 0.86 - 0.01');
  expect(retrainRun.steps.promote.pods).toEqual([]);
  expect(retrainRun.steps.promote.skipped).toBe('gate rejected: auc 0.84 < baseline 0.86 - 0.01');
  expect(r.containers.filter((k) => k.step === 'promote')).toEqual([]);
  expect(r.claims['churn-models']).toEqual(registryBefore);
  expect(picks(r)).toEqual([
    { job: scoringRun(300), exitCode: 0, stdout: 'serving version 3 of /models/churn\n', stderr: '' },
    { job: scoringRun(3900), exitCode: 0, stdout: 'serving version 3 of /models/churn\n', stderr: '' },
  ]);
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
