import { ContainerStep, Pipeline } from '../../src';
import { derivePlans } from '../../src/verify';
import { stepJobs, synth } from '../support/synth';

describe('the dependency graph', () => {
  // A recursive walk overflowed the call stack here when the first-added step was the last
  // to run: model and verify now share one iterative implementation.
  test('a 5,000-step chain declared downstream-first synthesizes, in chain order', () => {
    const n = 5000;
    const { objects } = synth((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
      const steps = Array.from({ length: n }, (_, i) => new ContainerStep(p, `s${i}`));
      for (let i = 0; i < n - 1; i++) steps[i].after(steps[i + 1]);
    });
    const jobs = stepJobs(objects);
    expect(Object.keys(jobs)).toHaveLength(n);
    expect(jobs.s0.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('s1');
    expect(jobs[`s${n - 1}`].metadata.annotations?.['mlops.cdk8s.io/depends-on']).toBeUndefined();
    const [plan] = derivePlans(objects);
    expect(plan.order[0]).toBe(`s${n - 1}`);
    expect(plan.order[n - 1]).toBe('s0');
    expect(plan.criticalPath).toHaveLength(n);
    expect(plan.levels).toHaveLength(n);
  });
});
