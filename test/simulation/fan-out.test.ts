import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Dataset, FanOut, Pipeline, PlainBackend } from '../../src';
import { ManifestObject, simulate } from '../../src/verify/simulator';
import { expectClean, withScript } from './fixtures';

/** prep -> score over three regions, two at a time -> merge (the fan-in). */
function fanOutPipeline(): ManifestObject[] {
  const app = Testing.app();
  const p = new Pipeline(app, 'regions', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/step:1.0' },
    backend: new PlainBackend({ pollInterval: Duration.seconds(10) }),
  });
  const prep = new ContainerStep(p, 'prep', { outputs: { data: Dataset } });
  const score = new FanOut(p, 'score', {
    items: ['eu', 'us', { region: 'apac', shards: 4 }],
    parallelism: 2,
    retries: 1,
    inputs: { data: prep.outputs.data },
    outputs: { scores: Dataset },
  });
  new ContainerStep(p, 'merge', { inputs: { scores: score.outputs.scores } });
  return Testing.synth(p) as ManifestObject[];
}

describe('a fan-out over items in the simulated cluster (real kubectl, real coordinator script)', () => {
  test('each of 3 items runs exactly once, at most 2 at a time, a retry sees the same item, and the fan-in waits for all', async () => {
    const r = await simulate(fanOutPipeline(), {
      steps: { 'score-0': { durations: [30] }, 'score-1': { durations: [5, 20], exitCodes: [1, 0] }, 'score-2': { durations: [10] } },
    });
    expectClean(r);
    expect(r.exitCode).toBe(0);
    const members = ['score-0', 'score-1', 'score-2'].map((s) => r.steps[s]);
    // What each instance's process saw, read from the pods the simulated Job controller made.
    const seen = members.flatMap((m) => m.pods.map(() => m.podEnv!.MLOPS_ITEM));
    expect(seen).toEqual(['eu', 'us', 'us', '{"region":"apac","shards":4}']);
    expect(members.map((m) => m.pods.length)).toEqual([1, 2, 1]);
    expect(r.steps['score-2'].podEnv).toMatchObject({ MLOPS_ITEM_INDEX: '2', MLOPS_ITEM_REGION: 'apac', MLOPS_ITEM_SHARDS: '4' });
    // Every member writes a folder of one directory, the one the fan-in reads.
    const outputs = members.map((m) => m.podEnv!.MLOPS_OUTPUT_SCORES);
    const collected = r.steps.merge.podEnv!.MLOPS_INPUT_SCORES;
    expect(outputs).toEqual([0, 1, 2].map((i) => `${collected}/${i}`));
    // The cap of the group (plan column 9), observed from the pods; the third waits for a slot.
    expect(r.maxConcurrentByGroup).toEqual({ score: 2 });
    expect(r.steps['score-2'].releasedAt).toBeGreaterThanOrEqual(Math.min(r.steps['score-0'].finishedAt!, r.steps['score-1'].finishedAt!));
    expect(r.steps.merge.startedAt).toBeGreaterThanOrEqual(Math.max(...members.map((m) => m.finishedAt!)));
  });

  test('a failing instance fails the run (a fan-out has no failure budget) and skips the fan-in with its reason', async () => {
    const r = await simulate(fanOutPipeline(), { steps: { 'score-1': { exitCodes: [1] } } });
    expectClean(r);
    expect(r.steps['score-1'].outcome).toBe('failed');
    expect(r.steps.merge.skipped).toBe("upstream step 'score-1' failed: BackoffLimitExceeded");
    expect(r.exitCode).toBe(3);
  });

  test('the harness catches a coordinator that ignores the group cap', async () => {
    const r = await simulate(withScript(fanOutPipeline(), (script) => script.replace('elif $slots <= 0 or $groupFull then $s', 'elif $slots <= 0 then $s')));
    expect(r.maxConcurrentByGroup).toEqual({ score: 3 });
    expect(r.errors).toContainEqual('3 members of group score ran at once at t=10s although its cap is 2');
  });
});
