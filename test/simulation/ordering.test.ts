import { simulate } from '../../src/verify/simulator';
import { criticalPath, dag, expectClean, synthPipeline } from './fixtures';

describe('the coordinator orders steps by their upstream Jobs', () => {
  test('diamond: B and C overlap, D starts only after both complete', async () => {
    const objects = synthPipeline({ steps: dag('a->b->d a->c->d') });
    const r = await simulate(objects, { steps: { a: { durations: [15] }, b: { durations: [30] }, c: { durations: [52] }, d: { durations: [10] } } });
    expectClean(r);
    const { a, b, c, d } = r.steps;
    expect([a, b, c, d].map((s) => s.outcome)).toEqual(['complete', 'complete', 'complete', 'complete']);
    expect(b.startedAt!).toBeGreaterThanOrEqual(a.finishedAt!);
    expect(c.startedAt!).toBeGreaterThanOrEqual(a.finishedAt!);
    // B and C run at the same time: each starts before the other finishes.
    expect(b.startedAt!).toBeLessThan(c.finishedAt!);
    expect(c.startedAt!).toBeLessThan(b.finishedAt!);
    expect(b.startedAt).toBe(c.startedAt);
    expect(d.startedAt!).toBeGreaterThanOrEqual(Math.max(b.finishedAt!, c.finishedAt!));
    expect(r.maxConcurrent).toBe(2);
    expect(r.exitCode).toBe(0);
    expect(r.coordinator.outcome).toBe('Complete');
    expect(r.ledger?.complete).toEqual(['a', 'b', 'c', 'd']);
    expect(r.coordinator.stdout).toContain('released d (upstream: b, c)');
  });

  test('wide fan-out: 30 parallel steps never exceed the cap, and a poll costs one list call', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `shard${String(i + 1).padStart(2, '0')}`);
    const steps = dag(ids.map((id) => `prep->${id}->merge`).join(' '));
    const durations = Object.fromEntries(ids.map((id, i) => [id, { durations: [20 + (i % 4) * 7] }]));
    const r = await simulate(synthPipeline({ steps, maxParallel: 5 }), { steps: durations });
    expectClean(r);
    expect(Object.values(r.steps).every((s) => s.outcome === 'complete' && s.pods.length === 1)).toBe(true);
    expect(r.maxConcurrent).toBe(5);
    const merge = r.steps.merge;
    expect(merge.startedAt!).toBeGreaterThanOrEqual(Math.max(...ids.map((id) => r.steps[id].finishedAt!)));

    // However many steps wait, a poll lists once; each action costs the real client a GET and
    // a PATCH; discovery happens once, on the pod's first kubectl call (its $HOME starts empty).
    expect(r.polls.every((p) => p.list === 1 && p.other === 0)).toBe(true);
    expect(r.polls.map((p) => p.discovery)).toEqual([2, ...r.polls.slice(1).map(() => 0)]);
    expect(r.polls.every((p) => p.get === p.patch)).toBe(true);
    const stepPatches = r.calls.filter((c) => c.request?.verb === 'patch' && c.request.name !== r.coordinator.job);
    expect(stepPatches).toHaveLength(32);
    expect(r.polls.every((p) => p.patch <= 5 + 1)).toBe(true);
    const idle = r.polls.filter((p) => p.patch === 0);
    expect(idle.length).toBeGreaterThan(0);
    expect(idle.every((p) => p.kubectl === 1 && p.list + p.get + p.patch + p.discovery + p.other === 1)).toBe(true);
  });

  test('more Jobs than kubectl\'s page size are still listed in one request per poll', async () => {
    // 510 Jobs of an older version of the pipeline carry its label too: every poll lists them all.
    const objects = synthPipeline({ steps: dag('prep->train') });
    const prep = objects.find((o) => o.metadata.labels?.['mlops.cdk8s.io/step'] === 'prep')!;
    const old = Array.from({ length: 510 }, (_, i) => ({ ...prep, metadata: { ...prep.metadata, name: `demo-prep-old${String(i).padStart(3, '0')}` } }));
    const r = await simulate([...objects, ...old]);
    expectClean(r);
    expect(Object.values(r.steps).map((s) => s.outcome)).toEqual(['complete', 'complete']);
    // kubectl pages lists by 500 unless told --chunk-size=0 (test/simulation/api-server.test.ts shows the paging).
    const lists = r.calls.filter((c) => c.argv[0] === 'get');
    expect(lists.length).toBeGreaterThan(2);
    expect(lists.every((c) => c.requests!.filter((q) => q.verb === 'list').length === 1 && !c.requests!.some((q) => q.url.includes('limit=')))).toBe(true);
  });

  test('makespan is the critical path plus at most one poll interval per level', async () => {
    const steps = dag('ingest->clean->features->train->evaluate->deploy ingest->stats->features clean->report train->report');
    const seconds: Record<string, number> = { ingest: 13, clean: 27, stats: 41, features: 8, train: 66, evaluate: 19, deploy: 5, report: 31 };
    const r = await simulate(synthPipeline({ steps, pollSeconds: 10 }), {
      steps: Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, { durations: [v] }])),
    });
    expectClean(r);
    const { seconds: critical, depth } = criticalPath(steps, (id) => seconds[id]);
    expect(r.makespan).toBeGreaterThanOrEqual(critical);
    expect(r.makespan).toBeLessThanOrEqual(critical + depth * 10);
    // Each release comes at most one poll after the last upstream completed.
    for (const s of Object.values(r.steps)) {
      const ready = Math.max(0, ...s.upstream.map((u) => r.steps[u].finishedAt!));
      expect(s.releasedAt! - ready).toBeGreaterThanOrEqual(0);
      expect(s.releasedAt! - ready).toBeLessThanOrEqual(10);
    }
  });

  test('an Indexed step completes when every index has succeeded', async () => {
    const steps = dag('split->score->publish', { score: { fanOut: 3, fanOutParallelism: 2 } });
    const r = await simulate(synthPipeline({ steps }), {
      steps: { score: { durations: [30], indexes: { 1: { durations: [45] } } } },
    });
    expectClean(r);
    const score = r.steps.score;
    expect(score.pods.map((p) => p.index).sort()).toEqual([0, 1, 2]);
    // Two at a time: index 2 starts when index 0 is done.
    expect(score.pods.find((p) => p.index === 2)!.startedAt).toBe(score.pods.find((p) => p.index === 0)!.endedAt);
    expect(score.finishedAt).toBe(score.startedAt! + 60);
    expect(r.steps.publish.startedAt!).toBeGreaterThanOrEqual(score.finishedAt!);
  });
});
