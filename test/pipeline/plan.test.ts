import { sweepPipeline } from '../../examples/sweep/pipeline';
import { derivePlans, renderPlan } from '../../src/verify';
import { synth } from '../support/synth';

describe('the plan of the sweep example', () => {
  const [plan] = derivePlans(synth(sweepPipeline).objects);

  test('has the split, six parallel GPU trials and the selection, in that order', () => {
    expect(plan.levels.map((l) => l.steps)).toEqual([
      ['split'],
      ['trial-0', 'trial-1', 'trial-2', 'trial-3', 'trial-4', 'trial-5'],
      ['select'],
    ]);
    expect(plan.levels[1].resources).toEqual({ 'nvidia.com/gpu': 6 });
    expect(plan.criticalPath).toEqual(['split', 'trial-0', 'select']);
  });

  test('reads the cap from the coordinator and counts only the GPUs that can run at once', () => {
    expect(plan.maxParallel).toBe(3);
    expect(renderPlan(plan)).toContain('  peak extended resources of one level running side by side: 3 (at most 3 steps run at once)\n');
  });
});
