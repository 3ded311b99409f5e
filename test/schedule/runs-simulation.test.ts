import { createHash } from 'crypto';
import { Duration, Testing } from 'cdk8s';
import { ConcurrencyPolicy, ContainerStep, Dataset, Pipeline, PlainBackend, ScheduleProps } from '../../src';
import { ManifestObject, simulate, SimulationResult } from '../../src/verify/simulator';

/**
 * Runs of a scheduled pipeline in the simulated cluster: the CronJob controller and the
 * garbage collector are modelled (src/verify/simulator/cronjob-controller.ts, cluster.ts),
 * the prelude and the coordinator run in bash and call the real kubectl against the
 * loopback API server.
 */
const EPOCH = 1_800_000_000; // a multiple of 10 minutes: '*/10 * * * *' fires at t=0

function scheduled(schedule: Partial<ScheduleProps> = {}): ManifestObject[] {
  const app = Testing.app();
  const p = new Pipeline(app, 'nightly', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/step:1.0' },
    // A long poll keeps the real kubectl calls, and the wall time, down.
    backend: new PlainBackend({ pollInterval: Duration.seconds(30) }),
    schedule: { cron: '*/10 * * * *', ...schedule },
  });
  const ingest = new ContainerStep(p, 'ingest', { outputs: { raw: Dataset } });
  new ContainerStep(p, 'train', { inputs: { raw: ingest.outputs.raw } });
  return Testing.synth(p) as ManifestObject[];
}

const run = (minute: number) => `nightly-${Math.floor(EPOCH / 60) + minute}`;
const stepJob = (runName: string, step: string) => `nightly-${step}-${createHash('sha256').update(runName).digest('hex').slice(0, 8)}`;
const outcome = (r: SimulationResult) => Object.fromEntries(r.coordinators.map((c) => [c.job, c.outcome]));
const deleted = (r: SimulationResult, job: string) => r.events.find((e) => e.job === job && e.what.startsWith('deleted'))?.what;

describe('a scheduled pipeline in the simulated cluster, with the real kubectl', () => {
  test('three scheduled runs in a row, each with its own Jobs, all complete', async () => {
    const r = await simulate(scheduled(), { startTime: EPOCH, namespace: 'ml', runs: { until: 1200 }, steps: { ingest: { durations: [60] }, train: { durations: [120] } } });
    expect(r.errors).toEqual([]);
    expect(outcome(r)).toEqual({ [run(0)]: 'Complete', [run(10)]: 'Complete', [run(20)]: 'Complete' });
    for (const c of r.coordinators) {
      expect(c.steps.ingest.job).toBe(stepJob(c.job, 'ingest'));
      expect(c.steps.train.outcome).toBe('complete');
      expect(c.steps.train.startedAt!).toBeGreaterThanOrEqual(c.steps.ingest.finishedAt!);
      expect(c.stdout).toContain(`starting run ${c.job} of pipeline nightly in namespace ml: 2 Jobs\ncreated the run's Jobs\n`);
    }
  });
});

describe('a run still going when the next one is due', () => {
  const slow = { ingest: { durations: [60] }, train: { durations: [700] } };

  test('forbid: the due run is skipped, the running one finishes, the next due one starts', async () => {
    const r = await simulate(scheduled({ concurrency: ConcurrencyPolicy.FORBID }), { startTime: EPOCH, namespace: 'ml', runs: { until: 1200 }, steps: slow });
    expect(r.errors).toEqual([]);
    expect(outcome(r)).toEqual({ [run(0)]: 'Complete', [run(20)]: 'Complete' });
    expect(r.events.map((e) => e.what)).toContain(`CronJob nightly: run at ${EPOCH + 600} skipped, ${run(0)} still active (Forbid)`);
  });

  test('replace: the running run is deleted with its step Jobs, the new one runs in its own Jobs', async () => {
    const r = await simulate(scheduled({ concurrency: ConcurrencyPolicy.REPLACE }), { startTime: EPOCH, namespace: 'ml', runs: { until: 600 }, steps: slow });
    expect(r.errors).toEqual([]);
    expect(outcome(r)).toEqual({ [run(0)]: 'deleted', [run(10)]: 'Complete' });
    expect(deleted(r, run(0))).toBe('deleted (CronJob nightly replaces it)');
    for (const step of ['ingest', 'train']) {
      expect(deleted(r, stepJob(run(0), step))).toBe(`deleted (garbage collected with its owner ${run(0)})`);
    }
    expect(r.jobs[stepJob(run(0), 'train')].pods[0].end).toBe('job-deleted');
    expect(r.coordinators[1].steps.train.outcome).toBe('complete');
  });
});

test('a run started by hand goes beside a scheduled one, and a second creation for one scheduled time is still one run', async () => {
  const r = await simulate(scheduled(), {
    startTime: EPOCH, namespace: 'ml', steps: { ingest: { durations: [60] }, train: { durations: [120] } },
    runs: { until: 0, manual: [{ at: 30, name: 'nightly-manual-1' }], duplicateAt: [{ at: 45, scheduledAt: 0 }] },
  });
  expect(r.errors).toEqual([]);
  expect(outcome(r)).toEqual({ [run(0)]: 'Complete', 'nightly-manual-1': 'Complete' });
  expect(r.events).toContainEqual({ at: 45, job: run(0), what: 'CronJob nightly: the Job for this scheduled time exists already (AlreadyExists)' });
  const [scheduledRun, manual] = r.coordinators;
  expect(manual.steps.train.job).toBe(stepJob('nightly-manual-1', 'train'));
  expect(manual.steps.train.job).not.toBe(scheduledRun.steps.train.job);
  // Side by side: the manual run's train started before the scheduled one's finished.
  expect(manual.steps.ingest.startedAt!).toBeLessThan(scheduledRun.steps.train.finishedAt!);
  for (const c of r.coordinators) expect(Object.values(c.steps).map((s) => s.attempts)).toEqual([1, 1]);
});

test('the history limit deletes the oldest run\'s coordinator and its Jobs; a coordinator killed mid-run resumes its own run', async () => {
  const r = await simulate(scheduled({ successfulRunsToKeep: 1 }), {
    startTime: EPOCH, namespace: 'ml', steps: { ingest: { durations: [60] }, train: { durations: [120] } },
    runs: { until: 1200, killAt: [{ at: 90, run: run(0) }] },
  });
  expect(r.errors).toEqual([]);
  const first = r.coordinators[0];
  expect(first.runs.map((p) => p.killed ?? false)).toEqual([true, false]);
  expect(first.runs[1].stdout).toContain('created the run\'s Jobs (2 existed already: a restarted coordinator, or a Job reused across runs)');
  expect(Object.values(first.steps).map((s) => [s.instances, s.attempts])).toEqual([[1, 1], [1, 1]]);
  // At the third run, two runs have succeeded and only one is kept: the first goes, with its Jobs.
  expect(deleted(r, run(0))).toBe('deleted (CronJob nightly history limit)');
  for (const step of ['ingest', 'train']) {
    expect(deleted(r, stepJob(run(0), step))).toBe(`deleted (garbage collected with its owner ${run(0)})`);
    expect(deleted(r, stepJob(run(10), step))).toBeUndefined();
  }
  expect(outcome(r)).toEqual({ [run(0)]: 'deleted', [run(10)]: 'Complete', [run(20)]: 'Complete' });
});
