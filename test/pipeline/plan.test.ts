import { sweepPipeline } from '../../examples/sweep/pipeline';
import { derivePlans, renderPlan } from '../../src/verify';
import { synth } from '../support/synth';

describe('the plan of the sweep example', () => {
  const [plan] = derivePlans(synth(sweepPipeline).objects);

  const trials = Array.from({ length: 12 }, (_, i) => `tune-trial-${i}`).sort();

  test('has the split, twelve parallel GPU trials, the selection and the export, in that order', () => {
    expect(plan.levels.map((l) => l.steps)).toEqual([['split'], trials, ['tune-select'], ['export']]);
    expect(plan.levels[1].resources).toEqual({ 'nvidia.com/gpu': 12 });
    expect(plan.criticalPath).toEqual(['split', 'tune-trial-0', 'tune-select', 'export']);
  });

  test('reads the trials\' group cap from the coordinator\'s plan and counts only the GPUs that can run at once', () => {
    expect(plan.maxParallel).toBe(0);
    expect(plan.steps.find((s) => s.step === 'tune-trial-5')!.groupCap).toEqual({ group: 'tune', n: 3 });
    expect(renderPlan(plan)).toContain('  peak extended resources of one level running side by side: 3 (at most 3 of tune at once)\n');
  });
});
