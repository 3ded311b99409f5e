import { createHash } from 'crypto';
import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Metrics, NumberValue, Pipeline, PlainBackend } from '../../src';
import { ManifestObject, simulate, StepBehaviour } from '../../src/verify/simulator';

/**
 * Values and conditions in a pipeline with runs: every run creates its own Jobs, so the
 * reporter's grant is made per run by the prelude (docs/schedules.md, "Gates in runs"), and
 * each run's consumer must read its own run's value. The prelude, the coordinator and the
 * values reporter run in bash with the real kubectl against the loopback API server.
 */
const EPOCH = 1_800_000_000; // a multiple of 10 minutes: '*/10 * * * *' fires at t=0 and t=600

/** train (writes accuracy) -> deploy when accuracy >= 0.8, retrain when < 0.8; both read it. */
function scheduledBranch(): ManifestObject[] {
  const p = new Pipeline(Testing.app(), 'nightly', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/step:1.0' },
    backend: new PlainBackend({ pollInterval: Duration.seconds(30) }),
    schedule: { cron: '*/10 * * * *' },
  });
  const train = new ContainerStep(p, 'train', { values: { accuracy: NumberValue } });
  for (const [id, when] of [['deploy', train.values.accuracy.atLeast(0.8)], ['retrain', train.values.accuracy.lessThan(0.8)]] as const) {
    new ContainerStep(p, id, { outputs: { notes: Metrics }, inputValues: { accuracy: train.values.accuracy }, when });
  }
  return Testing.synth(p) as ManifestObject[];
}

const run = (minute: number) => `nightly-${Math.floor(EPOCH / 60) + minute}`;
const hash8 = (r: string) => createHash('sha256').update(r).digest('hex').slice(0, 8);
/** A consumer names a file after the value in its env, MLOPS_VALUE_ACCURACY, resolved from its own pod's annotation. */
const seen: StepBehaviour = { durations: [20], files: { '$MLOPS_OUTPUT_NOTES/seen-$MLOPS_VALUE_ACCURACY': '' } };

describe('values and conditions in a scheduled pipeline, two runs of its CronJob', () => {
  test('each run\'s value reaches only its own consumer and decides its own condition; each run\'s reporter writes through its own grant', async () => {
    const r = await simulate(scheduledBranch(), {
      startTime: EPOCH,
      namespace: 'ml',
      runs: { until: 600 },
      steps: {
        train: { durations: [30], runs: { [run(0)]: { files: { '$MLOPS_VALUES/accuracy': '0.91' } }, [run(10)]: { files: { '$MLOPS_VALUES/accuracy': '0.74' } } } },
        deploy: seen,
        retrain: seen,
      },
    });
    expect(r.errors).toEqual([]);
    const [first, second] = r.coordinators;
    expect([first.job, second.job]).toEqual([run(0), run(10)]);
    expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(first.stdout).toContain(`starting run ${run(0)} of pipeline nightly in namespace ml: 3 Jobs and the Role its gates and values reporters write with\n`);

    // Run one: 0.91, deploy runs with it, retrain is skipped by its condition.
    expect(JSON.parse(first.steps.train.annotations!['mlops.cdk8s.io/values'])).toEqual({ accuracy: 0.91 });
    expect(first.steps.deploy.podAnnotations).toEqual({ 'in.mlops.cdk8s.io/accuracy': '0.91' });
    expect(first.steps.retrain.skipped).toBe('condition false: train.accuracy (0.91) < 0.8');
    // Run two: 0.74, the other way round.
    expect(JSON.parse(second.steps.train.annotations!['mlops.cdk8s.io/values'])).toEqual({ accuracy: 0.74 });
    expect(second.steps.deploy.skipped).toBe('condition false: train.accuracy (0.74) >= 0.8');
    expect(second.steps.retrain.podAnnotations).toEqual({ 'in.mlops.cdk8s.io/accuracy': '0.74' });
    expect(second.steps.retrain.outcome).toBe('complete');

    // What the consumers saw in their env, from the workspace: one file per run, its own value, in its own run's folder.
    const files = Object.values(r.claims).flatMap((claim) => Object.keys(claim)).filter((f) => f.includes('/seen-')).sort();
    expect(files).toEqual([`nightly/runs/${run(0)}/deploy/notes/seen-0.91`, `nightly/runs/${run(10)}/retrain/notes/seen-0.74`]);

    // Each run's prelude created the reporter's Role and binding for that run's train Job only,
    // and each reporter got and patched its own run's Job with it.
    const events = r.events.map((e) => e.what);
    for (const m of [0, 10]) {
      expect(events).toEqual(expect.arrayContaining([`Role nightly-reporter-${hash8(run(m))} created`, `RoleBinding nightly-reporter-${hash8(run(m))} created`]));
    }
    const reporterCalls = r.containers.filter((c) => c.container === 'report-values')
      .map((c) => c.kubectl.flatMap((k) => k.requests).filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.name} ${q.code}`));
    expect(reporterCalls).toEqual([0, 10].map((m) => [`get nightly-train-${hash8(run(m))} 200`, `patch nightly-train-${hash8(run(m))} 200`]));
  });
});
