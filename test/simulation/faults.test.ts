import { ManifestObject, SimulationResult, simulate } from '../../src/verify/simulator';
import { dag, expectClean, synthPipeline } from './fixtures';

/** v1 and v2 of `prep -> train -> evaluate`, where v2 changes only evaluate's image. */
function twoVersions(): { v1: ManifestObject[]; v2: ManifestObject[] } {
  const steps = dag('prep->train->evaluate');
  return {
    v1: synthPipeline({ steps }),
    v2: synthPipeline({ steps: dag('prep->train->evaluate', { evaluate: { image: 'registry.example.com/ml/step:2.0' } }) }),
  };
}

/** The name of a step's Job, of the coordinator Job (no step), or of the only object of a kind. */
function nameOf(objects: ManifestObject[], kind: string, step?: string): string {
  const o = objects.find(
    (x) =>
      x.kind === kind &&
      (step !== undefined ? x.metadata.labels?.['mlops.cdk8s.io/step'] === step : kind !== 'Job' || x.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator'),
  );
  if (!o) throw new Error(`no ${kind}${step ? ` of step ${step}` : ''} among the objects`);
  return o.metadata.name;
}

/** The patches one coordinator sent to one Job. */
function patches(r: SimulationResult, coordinator: string, job: string) {
  return r.calls.filter((c) => c.coordinator === coordinator && c.request?.verb === 'patch' && c.request.name === job);
}

/** No Job ran twice: each Job object was created once and exactly one of its pods ran to its own exit. */
function expectNoJobRanTwice(r: SimulationResult): void {
  for (const j of Object.values(r.jobs)) {
    expect([j.job, j.instances, j.pods.filter((p) => p.end === 'exit').length]).toEqual([j.job, 1, 1]);
  }
}

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
    expect(r.ledger!.complete.sort()).toEqual(['deploy', 'evaluate', 'ingest', 'stats', 'train']);
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
    expect(r.ledger?.complete).toContain('features');
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

  describe('a changed version applied while the first one runs', () => {
    const durations = { steps: { prep: { durations: [10] }, train: { durations: [100] }, evaluate: { durations: [10] } } };

    test('both coordinators finish; shared Jobs are reused by name, the changed step runs under both names', async () => {
      const { v1, v2 } = twoVersions();
      // Only evaluate changed: prep and train keep their Job names, evaluate and the
      // coordinator (with its Role, RoleBinding and ConfigMap) get new ones.
      const [prep, train] = [nameOf(v1, 'Job', 'prep'), nameOf(v1, 'Job', 'train')];
      expect([nameOf(v2, 'Job', 'prep'), nameOf(v2, 'Job', 'train')]).toEqual([prep, train]);
      const [eval1, eval2] = [nameOf(v1, 'Job', 'evaluate'), nameOf(v2, 'Job', 'evaluate')];
      const [c1, c2] = [nameOf(v1, 'Job'), nameOf(v2, 'Job')];
      expect(eval2).not.toBe(eval1);
      expect(c2).not.toBe(c1);
      expect(nameOf(v2, 'Role')).not.toBe(nameOf(v1, 'Role'));

      // At t=45 train (released at t=10, 100 s long) is running.
      const r = await simulate(v1, { ...durations, faults: { applyAt: [{ at: 45, objects: v2 }] } });
      expectClean(r);
      expect(r.calls.filter((c) => c.denied)).toEqual([]);

      const [old, next] = r.coordinators;
      expect([old.job, old.appliedAt, old.exitCode, old.outcome]).toEqual([c1, 0, 0, 'Complete']);
      expect([next.job, next.appliedAt, next.exitCode, next.outcome]).toEqual([c2, 45, 0, 'Complete']);
      // The first coordinator is still the one the single-coordinator fields describe.
      expect([r.coordinator.job, r.exitCode, r.steps.evaluate.job]).toEqual([c1, 0, eval1]);
      expect(Object.values(old.steps).map((s) => [s.job, s.outcome])).toEqual([[prep, 'complete'], [train, 'complete'], [eval1, 'complete']]);
      expect(Object.values(next.steps).map((s) => [s.job, s.outcome])).toEqual([[prep, 'complete'], [train, 'complete'], [eval2, 'complete']]);
      expect(old.ledger?.complete).toEqual(['prep', 'train', 'evaluate']);
      expect(next.ledger?.complete).toEqual(['prep', 'train', 'evaluate']);
      // One timeline per Job name: the shared Jobs once, both evaluates.
      expect(Object.keys(r.jobs).sort()).toEqual([eval1, eval2, prep, train].sort());
      expect(old.steps.train).toBe(next.steps.train);

      // prep had completed: v2's coordinator counts it complete and never touches it.
      expect(r.jobs[prep].releases).toEqual([0]);
      expect(r.jobs[prep].pods).toHaveLength(1);
      expect(patches(r, c2, prep)).toEqual([]);
      // kubectl apply sets the declared spec.suspend: true back on the running train (the
      // documented limit: tell GitOps tools to ignore /spec/suspend). Its pod is deleted
      // and the first coordinator to poll, v2's at once, releases it again, exactly once.
      expect(r.jobs[train].suspensions).toEqual([45]);
      expect(r.jobs[train].releases).toEqual([10, 45]);
      expect(r.jobs[train].pods.map((p) => p.end)).toEqual(['suspended', 'exit']);
      expect(patches(r, c2, train).map((c) => [c.at, c.request?.body])).toEqual([[45, { spec: { suspend: false } }]]);
      expect(patches(r, c1, train).map((c) => c.at)).toEqual([10]);
      expect(r.jobs[train].finishedAt).toBe(145);
      // Each coordinator releases its own evaluate once train completed, at its next poll.
      expect([r.jobs[eval2].releases, r.jobs[eval2].startedAt, r.jobs[eval2].finishedAt]).toEqual([[145], 145, 155]);
      expect([r.jobs[eval1].releases, r.jobs[eval1].startedAt, r.jobs[eval1].finishedAt]).toEqual([[150], 150, 160]);
      expect(patches(r, c2, eval1)).toEqual([]);
      expect(patches(r, c1, eval2)).toEqual([]);
      expectNoJobRanTwice(r);
      expect([old.runs.map((x) => [x.startedAt, x.endedAt]), next.runs.map((x) => [x.startedAt, x.endedAt])]).toEqual([[[0, 160]], [[45, 155]]]);
    });

    test('with /spec/suspend left alone (a GitOps tool ignoring it), v2 never releases prep or train: one pod each', async () => {
      const { v1, v2 } = twoVersions();
      const shared = new Set(v1.filter((o) => o.kind === 'Job').map((o) => o.metadata.name));
      for (const o of v2) if (o.kind === 'Job' && shared.has(o.metadata.name)) delete o.spec.suspend;
      const [prep, train, c2] = [nameOf(v1, 'Job', 'prep'), nameOf(v1, 'Job', 'train'), nameOf(v2, 'Job')];
      const r = await simulate(v1, { ...durations, faults: { applyAt: [{ at: 45, objects: v2 }] } });
      expectClean(r);
      expect(r.coordinators.map((k) => [k.exitCode, k.outcome])).toEqual([[0, 'Complete'], [0, 'Complete']]);
      for (const job of [prep, train]) {
        expect(r.jobs[job].releases).toHaveLength(1);
        expect(r.jobs[job].pods).toHaveLength(1);
        expect(patches(r, c2, job)).toEqual([]);
      }
      expect(r.jobs[train].finishedAt).toBe(110);
      expect(r.jobs[nameOf(v2, 'Job', 'evaluate')].startedAt).toBe(115);
      expectNoJobRanTwice(r);
    });

    test('the versioned Role matters: v2 applied under v1\'s Role name takes v1\'s grants away and v1 fails with exit 5', async () => {
      const { v1, v2 } = twoVersions();
      const role1 = nameOf(v1, 'Role');
      for (const o of v2) {
        if (o.kind === 'Role' || o.kind === 'RoleBinding') o.metadata.name = role1;
        if (o.kind === 'RoleBinding') o.roleRef.name = role1;
      }
      const [eval1, c1, c2] = [nameOf(v1, 'Job', 'evaluate'), nameOf(v1, 'Job'), nameOf(v2, 'Job')];
      const r = await simulate(v1, { ...durations, faults: { applyAt: [{ at: 45, objects: v2 }] } });
      expect(r.ok).toBe(false);
      // v2's Role names v2's Jobs only: v1's coordinator can still list, but not release its evaluate nor write its ledger.
      const denied = r.calls.filter((c) => c.denied);
      expect(new Set(denied.map((c) => c.coordinator))).toEqual(new Set([c1]));
      expect(new Set(denied.map((c) => c.request?.name))).toEqual(new Set([eval1, c1]));
      expect(patches(r, c1, eval1).every((c) => c.denied)).toBe(true);
      expect(r.errors.some((e) => e.startsWith(`the API refused the coordinator's call \`kubectl patch job ${eval1} `))).toBe(true);
      // The refusal repeats on every patch: v1 gives up with exit 5 instead of polling until its deadline.
      const [old, next] = r.coordinators;
      expect([old.exitCode, old.outcome, old.runs[0].killed]).toEqual([5, 'Failed: PodFailurePolicy', undefined]);
      expect(old.stderr).toContain("error: the coordinator's service account may not get jobs.batch in namespace ml (5 patch calls refused in a row)");
      expect(r.jobs[eval1].outcome).toBe('waiting');
      // v2 itself is unaffected.
      expect([next.job, next.exitCode, next.outcome]).toEqual([c2, 0, 'Complete']);
    });
  });
});
