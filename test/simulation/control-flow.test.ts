import { ManifestObject, simulate } from '../../src/verify/simulator';
import { dag, edit, expectClean, synthPipeline } from './fixtures';

/**
 * Plan columns 4-8 (docs/coordinator-contract.md) at run time, written into the plan of
 * ContainerStep fixtures by hand, to reach what typed steps cannot: a gate Job that
 * completes without a verdict (gate.sh always writes one or fails).
 */
function withColumns(objects: ManifestObject[], columns: Record<string, { rule?: string; kind?: string }>): ManifestObject[] {
  return edit(objects, 'ConfigMap', (cm) => {
    cm.data.plan = cm.data.plan.split('\n').map((line: string) => {
      const c = columns[line.split('\t')[0]];
      return c ? `${line}\t${c.rule ?? '-'}\t${c.kind ?? '-'}` : line;
    }).join('\n');
  }, true);
}

// Gates from typed steps, with the gate's script running for real: test/simulation/gates.test.ts.
describe('gates: the coordinator side of the contract', () => {
  const steps = dag('train->evaluate->deploy');

  test('a gate that completes without a verdict counts as failed: exit 3', async () => {
    const r = await simulate(withColumns(synthPipeline({ steps }), { evaluate: { kind: 'gate' } }));
    expectClean(r);
    expect(r.steps.deploy.skipped).toBe("upstream step 'evaluate' failed: gate finished without a verdict");
    expect(r.exitCode).toBe(3);
  });
});

describe('trigger rules on a diamond with one failing branch', () => {
  test('all-succeeded and none-failed are skipped, all-done and one-failed run; the run fails', async () => {
    const steps = dag('a->b->d1 a->c->d1 b->d2 c->d2 b->d3 c->d3 b->d4 c->d4', { b: { retries: 0 } });
    const objects = withColumns(synthPipeline({ steps }), { d2: { rule: 'all-done' }, d3: { rule: 'one-failed' }, d4: { rule: 'none-failed' } });
    const r = await simulate(objects, { steps: { b: { durations: [10], exitCodes: [1] }, c: { durations: [30] } } });
    expectClean(r);
    const { b, c, d1, d2, d3, d4 } = r.steps;
    expect([b.outcome, c.outcome]).toEqual(['failed', 'complete']);
    expect(d1.skipped).toBe("upstream step 'b' failed: BackoffLimitExceeded");
    expect(d4.skipped).toBe("upstream step 'b' failed: BackoffLimitExceeded");
    // one-failed goes as soon as b failed; all-done waits for c too.
    expect(d3.releasedAt).toBe(20);
    expect(d2.releasedAt).toBe(40);
    expect([d2.outcome, d3.outcome]).toEqual(['complete', 'complete']);
    expect([d1.pods, d4.pods]).toEqual([[], []]);
    expect(r.exitCode).toBe(3);
  });

  test('one-failed is skipped when nothing failed', async () => {
    const objects = withColumns(synthPipeline({ steps: dag('a->cleanup a->b') }), { cleanup: { rule: 'one-failed' } });
    const r = await simulate(objects);
    expectClean(r);
    expect(r.steps.cleanup.skipped).toBe('no upstream step failed');
    expect(r.steps.cleanup.pods).toEqual([]);
    // Not running a failure handler is a result: the run succeeded.
    expect(r.exitCode).toBe(0);
  });
});

describe('exit handlers', () => {
  test('a failing main step: the handler runs after everything else and receives the status and the failure; the run still fails', async () => {
    const steps = dag('prep->train notify', { train: { retries: 0 } });
    const objects = withColumns(synthPipeline({ steps }), { notify: { rule: 'exit' } });
    // An exit handler has no upstream in the plan.
    expect(objects.find((o) => o.kind === 'ConfigMap' && o.data?.plan)!.data.plan).toMatch(/^notify\t\S+\t-\texit\t-$/m);
    const r = await simulate(objects, { steps: { train: { durations: [20], exitCodes: [1] } } });
    expectClean(r);
    const { train, notify } = r.steps;
    expect(train.outcome).toBe('failed');
    expect(notify.outcome).toBe('complete');
    expect(notify.releasedAt!).toBeGreaterThanOrEqual(train.finishedAt!);
    expect(notify.podAnnotations).toEqual({
      'mlops.cdk8s.io/run-status': 'failed',
      'mlops.cdk8s.io/run-failures': '[{"step":"train","reason":"BackoffLimitExceeded"}]',
    });
    expect(r.coordinator.stdout).toContain('released exit handler notify (run failed)');
    expect(r.exitCode).toBe(3);
  });
});
