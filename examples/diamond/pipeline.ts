import { App } from 'cdk8s';
import { ContainerStep, Dataset, Metrics, Model, Pipeline, TriggerRule } from '../../src';

/**
 * A diamond with an exit handler, as Argo's `exit-handlers` example and KFP's
 * `dsl.ExitHandler` express it: two models train side by side on one dataset, a comparison
 * waits for both, a clean-up runs whatever happened (`all-done`), an alert only when a
 * branch failed (`one-failed`), and a notifier runs last and posts the run's outcome.
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
  new ContainerStep(pipeline, 'compare', {
    command: ['python', '-m', 'diamond.compare'],
    inputs: { trees: trees.outputs.model, linear: linear.outputs.model },
    outputs: { report: Metrics },
  });
  new ContainerStep(pipeline, 'cleanup', { command: ['python', '-m', 'diamond.cleanup'], after: [trees, linear], trigger: TriggerRule.ALL_DONE });
  new ContainerStep(pipeline, 'page-oncall', { command: ['python', '-m', 'diamond.page'], after: [trees, linear], trigger: TriggerRule.ONE_FAILED });
  // Reads MLOPS_RUN_STATUS (succeeded, failed, rejected) and MLOPS_RUN_FAILURES ([{step, reason}]).
  pipeline.onExit(new ContainerStep(pipeline, 'notify', { command: ['python', '-m', 'diamond.notify', '--channel', '#ml-runs'] }));
  return pipeline;
}
