import { App } from 'cdk8s';
import { ContainerStep, Dataset, Metrics, Model, NumberValue, Pipeline, StringValue, TriggerRule } from '../../src';

/**
 * A diamond with an exit handler, as Argo's `exit-handlers` example and KFP's
 * `dsl.ExitHandler` express it: two models train side by side on one dataset, a comparison
 * waits for both and says which won and by how much, a value-driven branch (Argo's
 * `when`, KFP's `dsl.If`) publishes the winner only when its AUC is good enough and flags it
 * for review otherwise, an announcement follows whichever branch ran (`none-failed`), a
 * clean-up runs whatever happened (`all-done`), an alert only when a branch failed
 * (`one-failed`), and a notifier runs last and posts the run's outcome.
 */
export function diamondPipeline(app: App): Pipeline {
  const pipeline = new Pipeline(app, 'diamond', {
    namespace: 'ml-diamond',
    defaults: { image: 'ghcr.io/acme-ml/diamond:2.0.1' },
  });
  const prepare = new ContainerStep(pipeline, 'prepare', { command: ['python', '-m', 'diamond.prepare'], outputs: { rows: Dataset } });
  const trees = new ContainerStep(pipeline, 'train-trees', {
    command: ['python', '-m', 'diamond.train', '--family', 'gbdt'],
    inputs: { rows: prepare.outputs.rows },
    outputs: { model: Model },
  });
  const linear = new ContainerStep(pipeline, 'train-linear', {
    command: ['python', '-m', 'diamond.train', '--family', 'logistic'],
    inputs: { rows: prepare.outputs.rows },
    outputs: { model: Model },
  });
  // Writes $MLOPS_VALUES/winner ("gbdt" or "logistic") and $MLOPS_VALUES/auc (e.g. 0.87).
  const compare = new ContainerStep(pipeline, 'compare', {
    command: ['python', '-m', 'diamond.compare'],
    inputs: { trees: trees.outputs.model, linear: linear.outputs.model },
    outputs: { report: Metrics },
    values: { winner: StringValue, auc: NumberValue },
  });
  const publish = new ContainerStep(pipeline, 'publish', {
    command: ['python', '-m', 'diamond.publish'],
    args: ['--family', '$(MLOPS_VALUE_WINNER)'],
    inputs: { report: compare.outputs.report },
    inputValueKinds: { winner: StringValue },
    inputValues: { winner: compare.values.winner },
    when: compare.values.auc.atLeast(0.8),
  });
  const review = new ContainerStep(pipeline, 'flag-for-review', {
    command: ['python', '-m', 'diamond.review'],
    inputValues: { winner: compare.values.winner, auc: compare.values.auc },
    when: compare.values.auc.lessThan(0.8),
  });
  new ContainerStep(pipeline, 'announce', { command: ['python', '-m', 'diamond.announce'], after: [publish, review], trigger: TriggerRule.NONE_FAILED });
  new ContainerStep(pipeline, 'cleanup', { command: ['python', '-m', 'diamond.cleanup'], after: [trees, linear], trigger: TriggerRule.ALL_DONE });
  new ContainerStep(pipeline, 'page-oncall', { command: ['python', '-m', 'diamond.page'], after: [trees, linear], trigger: TriggerRule.ONE_FAILED });
  // Reads MLOPS_RUN_STATUS (succeeded, failed, rejected) and MLOPS_RUN_FAILURES ([{step, reason}]).
  pipeline.onExit(new ContainerStep(pipeline, 'notify', { command: ['python', '-m', 'diamond.notify', '--channel', '#ml-runs'] }));
  return pipeline;
}
