import { simulate } from '../../src/verify/simulator';
import { dag, expectClean, synthPipeline } from './fixtures';

describe('the run survives the faults a real cluster has', () => {
  test('the coordinator killed mid-run is restarted and resumes: no step runs twice, the run completes', async () => {
    const steps = dag('ingest->train->evaluate->deploy ingest->stats->evaluate');
    const r = await simulate(synthPipeline({ steps }), {
      steps: { ingest: { durations: [20] }, train: { durations: [60] }, stats: { durations: [25] }, evaluate: { durations: [15] } },
      faults: { killCoordinatorAt: [25, 61, 97] },
    });
    expectClean(r);
    expect(r.coordinator.runs.map((x) => [x.startedAt, x.killed ?? false])).toEqual([
      [0, true],
      [25, true],
      [61, true],
      [97, false],
    ]);
    for (const s of Object.values(r.steps)) {
      expect(s.outcome).toBe('complete');
      expect(s.pods).toHaveLength(1);
      expect(s.releases).toHaveLength(1);
    }
    expect(r.exitCode).toBe(0);
    expect(r.coordinator.outcome).toBe('Complete');
    expect(r.ledger!.split(',').sort()).toEqual(['deploy', 'evaluate', 'ingest', 'stats', 'train']);
  });

  test('a re-apply mid-run re-suspends a running step; the coordinator notices and releases it again', async () => {
    const steps = dag('prep->train->evaluate');
    const r = await simulate(synthPipeline({ steps }), { steps: { prep: { durations: [10] }, train: { durations: [100] } }, faults: { reapplyAt: [50] } });
    expectClean(r);
    const { prep, train, evaluate } = r.steps;
    expect(train.suspensions).toEqual([50]);
    expect(train.releases).toHaveLength(2);
    expect(train.releases[1] - 50).toBeLessThanOrEqual(10);
    // The suspension deleted the pod; the resumed Job starts over and the lost run is no failed attempt.
    expect(train.pods.map((p) => p.end)).toEqual(['suspended', 'exit']);
    expect(train.attempts).toBe(1);
    expect(train.finishedAt).toBe(train.releases[1] + 100);
    expect(prep.pods).toHaveLength(1);
    expect(evaluate.startedAt!).toBeGreaterThanOrEqual(train.finishedAt!);
    expect(r.coordinator.stdout).toContain('warning: train was suspended again after it had started');
    expect(r.exitCode).toBe(0);
  });

  test('upstream Jobs deleted by TTL while downstream waits: the ledger still counts them complete', async () => {
    const steps = dag('features->train slow-join->train');
    const r = await simulate(synthPipeline({ steps, ttlSeconds: 120 }), { steps: { features: { durations: [10] }, 'slow-join': { durations: [300] } } });
    expectClean(r);
    const { features, train } = r.steps;
    expect(features.deletedAt).toBe(130);
    expect(train.releasedAt!).toBeGreaterThan(features.deletedAt!);
    expect(train.outcome).toBe('complete');
    expect(r.ledger?.split(',')).toContain('features');
    expect(r.exitCode).toBe(0);
  });

  test('a re-apply after TTL re-creates the deleted Job; the ledger keeps it from running a second time', async () => {
    const steps = dag('features->train slow-join->train');
    const r = await simulate(synthPipeline({ steps, ttlSeconds: 120 }), { steps: { features: { durations: [10] }, 'slow-join': { durations: [300] } }, faults: { reapplyAt: [200] } });
    expectClean(r);
    const { features, train } = r.steps;
    expect(features.instances).toBe(2);
    expect(features.pods).toHaveLength(1);
    expect(features.releases).toHaveLength(1);
    expect(train.outcome).toBe('complete');
    expect(r.exitCode).toBe(0);
  });

  test('failed kubectl calls are retried on the next poll, not fatal', async () => {
    const steps = dag('a->b->c');
    const r = await simulate(synthPipeline({ steps }), {
      faults: { failKubectl: [{ at: 10, verb: 'list', times: 2 }, { at: 10, verb: 'patch' }] },
    });
    expectClean(r);
    const injected = r.calls.filter((c) => c.injected);
    expect(injected.map((c) => [c.at, c.request?.verb])).toEqual([
      [10, 'list'],
      [20, 'list'],
      [30, 'patch'],
    ]);
    expect(r.coordinator.stdout).toContain("warning: listing the pipeline's Jobs failed; trying again in 10s");
    expect(r.coordinator.stdout).toMatch(/warning: patching Job demo-\w+-\w+ failed, trying again next poll/);
    expect(r.coordinator.runs).toHaveLength(1);
    expect(Object.values(r.steps).every((s) => s.outcome === 'complete')).toBe(true);
    expect(r.exitCode).toBe(0);
  });

  test('a deleted step Job is waited for until the run deadline; its descendants are marked', async () => {
    const steps = dag('a->b->c');
    const r = await simulate(synthPipeline({ steps, runDeadlineSeconds: 120 }), { faults: { deleteJobs: [{ at: 5, step: 'b' }] } });
    expectClean(r);
    expect(r.steps.b.outcome).toBe('missing');
    expect(r.steps.c.skipped).toBe('run deadline of 120s exceeded');
    expect(r.exitCode).toBe(3);
    expect(r.coordinator.stdout).toMatch(/b\s+skipped\s+run deadline of 120s exceeded/);
  });

  test('a restarted coordinator keeps the run deadline, read from its own Job', async () => {
    const steps = dag('a->b');
    const r = await simulate(synthPipeline({ steps, runDeadlineSeconds: 100 }), {
      steps: { a: { durations: [30] }, b: { durations: [300] } },
      faults: { killCoordinatorAt: [85] },
    });
    expectClean(r);
    expect(r.coordinator.runs.map((x) => x.startedAt)).toEqual([0, 85]);
    expect(r.steps.b.suspensions).toEqual([105]);
    expect(r.steps.b.skipped).toBe('run deadline of 100s exceeded');
    expect(r.exitCode).toBe(3);
  });
});
