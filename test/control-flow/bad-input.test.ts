import { Testing } from 'cdk8s';
import { ContainerStep, Dataset, Pipeline, TriggerRule } from '../../src';
import { expectSynthFailure as expectFailure, VALIDATION } from '../support/synth';

const image = 'busybox:1.36';

describe('control flow that cannot run fails synthesis with a precise error and writes nothing', () => {
  test('a step that waits for an exit handler', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const notify = new ContainerStep(p, 'notify', { outputs: { report: Dataset } });
      new ContainerStep(p, 'archive', { inputs: { report: notify.outputs.report } });
      p.onExit(notify);
    }, `${VALIDATION}[p/archive] step 'archive' waits for exit handler 'notify', which runs after every other step; an exit handler cannot be `
      + 'depended on: remove it from this step\'s inputs and after(), or make \'notify\' an ordinary step');
  });

  test('an exit handler that waits for a step, or sets a trigger rule', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const train = new ContainerStep(p, 'train');
      p.onExit(new ContainerStep(p, 'notify', { after: [train], trigger: TriggerRule.ALL_DONE }));
    }, `${VALIDATION}[p/notify] exit handler 'notify' waits for 'train'; an exit handler runs once every other step has finished, whatever happened, `
      + 'so it takes no inputs or after(): remove them\n  '
      + '[p/notify] exit handler \'notify\' sets trigger \'all-done\', but exit handlers always run last, whatever happened; drop \'trigger\'');
  });

  test('an unknown trigger rule (from JavaScript, or a cast)', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'b', { after: [new ContainerStep(p, 'a')], trigger: 'always' as TriggerRule });
    }, `${VALIDATION}[p/b] 'trigger' must be one of 'all-succeeded', 'all-done', 'one-failed', 'none-failed' (TriggerRule), got 'always'`);
  });

  test('a trigger rule on a step with no upstream', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 'alert', { image, trigger: TriggerRule.ONE_FAILED });
    }, `${VALIDATION}[p/alert] 'trigger' is 'one-failed' but step 'alert' has no upstream steps to apply it to; add after() or inputs, or drop 'trigger'`);
  });

  test('onExit with a step of another pipeline', () => {
    const app = Testing.app();
    const p = new Pipeline(app, 'p');
    const other = new ContainerStep(new Pipeline(app, 'q'), 'notify', { image });
    expect(() => p.onExit(other)).toThrow('[p] onExit() takes steps of this pipeline, got q/notify');
  });
});
