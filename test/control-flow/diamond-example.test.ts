import { diamondPipeline } from '../../examples/diamond/pipeline';
import { envOf, findOne, stepJobs, synth } from '../support/synth';

describe('the diamond example', () => {
  const { objects } = synth(diamondPipeline);

  test('its plan releases cleanup whatever happened, page-oncall on a failure, and notify last with the run\'s outcome', () => {
    const cm = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator');
    const plan = cm.data.plan.trimEnd().split('\n').map((l: string) => l.split('\t')).map(([step, , up, rule]: string[]) => [step, up, rule ?? 'all-succeeded']);
    expect(plan).toEqual([
      ['prepare', '-', 'all-succeeded'],
      ['train-trees', 'prepare', 'all-succeeded'],
      ['train-linear', 'prepare', 'all-succeeded'],
      ['compare', 'train-linear,train-trees', 'all-succeeded'],
      ['cleanup', 'train-linear,train-trees', 'all-done'],
      ['page-oncall', 'train-linear,train-trees', 'one-failed'],
      ['notify', '-', 'exit'],
    ]);
    const notify = stepJobs(objects).notify.spec.template.spec.containers[0];
    expect(envOf(notify).MLOPS_RUN_STATUS).toEqual({ fieldRef: { fieldPath: "metadata.annotations['mlops.cdk8s.io/run-status']" } });
  });
});
