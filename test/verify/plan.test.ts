import { derivePlans, isExtendedResource, PipelinePlan, renderPlans, verifyObjects } from '../../src/verify';
// The graph functions directly: the scale test needs no 20000 Jobs.
import * as graph from '../../src/verify/graph';
import { find, jobName, Obj, StepSpec, STEPS, validSet } from './fixtures';

function plan(objects: Obj[]): PipelinePlan {
  const { plans } = verifyObjects(objects);
  expect(plans).toHaveLength(1);
  return plans[0];
}

describe('plan', () => {
  test('a diamond: levels, order, critical path and GPUs per level', () => {
    // ingest -> (features, stats) -> train (2 GPUs x parallelism 2) -> evaluate (1 GPU)
    const p = plan(validSet(STEPS));
    expect(p.pipeline).toBe('churn');
    expect(p.namespace).toBe('ml');
    expect(p.order).toEqual(['ingest', 'features', 'stats', 'train', 'evaluate']);
    expect(p.levels.map((l) => [l.level, l.steps, l.gpus])).toEqual([
      [0, ['ingest'], 0],
      [1, ['features', 'stats'], 0],
      [2, ['train'], 4],
      [3, ['evaluate'], 1],
    ]);
    expect(p.levels[2].resources).toEqual({ 'nvidia.com/gpu': 4 });
    // features and stats tie in length; the tie goes to the name that sorts first.
    expect(p.criticalPath).toEqual(['ingest', 'features', 'train', 'evaluate']);
    expect(p.cycles).toEqual([]);
    expect(p.coordinator).toBe('churn-coordinator-9f8e7d6c');
  });

  test('a wide fan-out: one level of many parallel steps, GPUs summed', () => {
    const shards = Array.from({ length: 12 }, (_, i) => `shard-${String(i).padStart(2, '0')}`);
    const steps: StepSpec[] = [
      { step: 'split' },
      ...shards.map((s, i) => ({ step: s, after: ['split'], gpus: i % 2 === 0 ? 1 : 2 })),
      { step: 'merge', after: shards },
    ];
    const p = plan(validSet(steps));
    expect(p.levels.map((l) => l.steps.length)).toEqual([1, 12, 1]);
    expect(p.levels[1].gpus).toBe(6 * 1 + 6 * 2);
    expect(p.levels[1].resources).toEqual({ 'nvidia.com/gpu': 18 });
    expect(p.criticalPath).toEqual(['split', 'shard-00', 'merge']);
    expect(p.order[0]).toBe('split');
    expect(p.order[p.order.length - 1]).toBe('merge');
  });

  test('level is the longest chain of upstreams, not the shortest', () => {
    const steps: StepSpec[] = [
      { step: 'a' }, { step: 'b', after: ['a'] }, { step: 'c', after: ['b'] }, { step: 'd', after: ['a', 'c'] }, { step: 'e' },
    ];
    const p = plan(validSet(steps));
    expect(p.steps.map((s) => [s.step, s.level])).toEqual([['a', 0], ['e', 0], ['b', 1], ['c', 2], ['d', 3]]);
    expect(p.criticalPath).toEqual(['a', 'b', 'c', 'd']);
  });

  test('other extended resources count; cpu, memory, hugepages and kubernetes.io ones do not', () => {
    expect(['nvidia.com/gpu', 'amd.com/gpu', 'example.com/fpga'].every(isExtendedResource)).toBe(true);
    expect(['cpu', 'memory', 'ephemeral-storage', 'hugepages-2Mi', 'kubernetes.io/batch-cpu', 'example.com/hugepages-1Gi'].some(isExtendedResource)).toBe(false);
    const set = validSet([{ step: 'train', gpus: 1 }]);
    const c = find(set, 'Job', jobName('train')).spec.template.spec.containers;
    c[0].resources.limits['amd.com/gpu'] = '2';
    c[0].resources.limits['hugepages-2Mi'] = '1Gi';
    c.push({ name: 'sidecar', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': 1 } } });
    const p = plan(set);
    expect(p.levels[0].resources).toEqual({ 'amd.com/gpu': 2, 'nvidia.com/gpu': 2 });
    expect(p.levels[0].gpus).toBe(4);
  });

  test('parallelism is capped by completions, init containers count at their peak', () => {
    const set = validSet([{ step: 'train', gpus: 1, parallelism: 8, completions: 3 }]);
    const spec = find(set, 'Job', jobName('train')).spec.template.spec;
    spec.initContainers = [{ name: 'warmup', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': 2 } } }];
    const p = plan(set);
    expect(p.steps[0].parallelism).toBe(3);
    expect(p.steps[0].resources).toEqual({ 'nvidia.com/gpu': 6 });
  });

  test('a cycle leaves order and levels empty and is shown', () => {
    const p = plan(validSet([{ step: 'a', after: ['b'] }, { step: 'b', after: ['a'] }]));
    expect(p.cycles).toEqual([['a', 'b']]);
    expect(p.order).toEqual([]);
    expect(renderPlans([p])).toBe(
      'pipeline churn (namespace ml): 2 steps, coordinator churn-coordinator-9f8e7d6c\n'
      + '  cannot order the steps: dependency cycle a => b => a\n');
  });

  test('the text rendering', () => {
    expect(renderPlans([plan(validSet(STEPS))])).toBe([
      'pipeline churn (namespace ml): 5 steps, coordinator churn-coordinator-9f8e7d6c',
      '  level 0: ingest (no GPUs)',
      '    ingest    churn-ingest-0a1b2c3d  first',
      '  level 1: features, stats (no GPUs)',
      '    features  churn-features-0a1b2c3d  after ingest',
      '    stats     churn-stats-0a1b2c3d  after ingest',
      '  level 2: train (nvidia.com/gpu: 4)',
      '    train     churn-train-0a1b2c3d  after features, stats, parallelism 2, nvidia.com/gpu: 4',
      '  level 3: evaluate (nvidia.com/gpu: 1)',
      '    evaluate  churn-evaluate-0a1b2c3d  after train, nvidia.com/gpu: 1',
      '  critical path (4 steps): ingest => features => train => evaluate',
      '  peak extended resources of one level running side by side: 4',
      '',
    ].join('\n'));
  });

  test('plans are deterministic and independent of input order', () => {
    const set = validSet(STEPS);
    const a = renderPlans(verifyObjects(set).plans);
    const b = renderPlans(verifyObjects([...set].reverse()).plans);
    expect(b).toBe(a);
  });

  test('derivePlans gives the same plans without the checks', () => {
    const set = validSet(STEPS);
    expect(derivePlans(set)).toEqual(verifyObjects(set).plans);
  });

  test('objects without pipeline labels make no plan', () => {
    expect(verifyObjects(validSet().filter((o) => o.kind !== 'Job')).plans).toEqual([]);
  });
});

describe('graph algorithms at scale', () => {
  test('a chain of 20000 steps does not overflow the stack', () => {
    const g = new Map<string, string[]>();
    for (let i = 0; i < 20000; i++) g.set(`s${i}`, i ? [`s${i - 1}`] : []);
    expect(graph.levelsOf(g).get('s19999')).toBe(19999);
    expect(graph.criticalPath(g)).toHaveLength(20000);
    expect(graph.findCycles(g)).toEqual([]);
    g.set('s0', ['s19999']);
    expect(graph.findCycles(g).map((c) => c.length)).toEqual([20000]);
  });
});
