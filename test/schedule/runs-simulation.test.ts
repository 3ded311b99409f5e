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
    backend: new PlainBackend({ pollInterval: Duration.seconds(5) }),
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
