import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { ContainerStep, Dataset, Gpu, Objective, Param, Pipeline, SearchSpace, Sweep, Workspace, WorkspaceAccess } from '../../src';

/**
 * A random-search sweep, as Katib's `random` experiment and the KFP/Katib tuning
 * examples express it: split the data once, train 12 trials with hyperparameters drawn
 * from a seeded random sample (at most three at a time, the team's GPU quota), tolerate
 * two failed trials, keep the model of the trial with the best validation AUC, and export
 * it only when that AUC reaches 0.8.
 */
export function sweepPipeline(scope: Construct): Pipeline {
  const pipeline = new Pipeline(scope, 'sweep', {
    namespace: 'ml-research',
    workspace: Workspace.claim({ size: Size.gibibytes(100), storageClassName: 'filestore-rwx', access: WorkspaceAccess.READ_WRITE_MANY }),
    defaults: { image: 'ghcr.io/acme-ml/trainer:2.0.1' },
    runDeadline: Duration.hours(12),
  });

  const split = new ContainerStep(pipeline, 'split', {
    command: ['python', '-m', 'trainer.split', '--holdout', '0.2'],
    outputs: { train: Dataset, holdout: Dataset },
  });

  const tune = new Sweep(pipeline, 'tune', {
    space: SearchSpace.random({
      learning_rate: Param.logUniform(1e-4, 1e-1),
      max_depth: Param.integer(3, 10),
      optimizer: Param.choice(['adam', 'sgd']),
    }, { trials: 12, seed: 2026 }),
    parallelism: 3,
    failureBudget: 2,
    metrics: ['auc', 'logloss'],
    objective: Objective.maximize('auc'),
    // Kubernetes expands $(VAR) in args from the container's env: no shell needed.
    command: ['python', '-m', 'trainer.fit'],
    args: ['--learning-rate', '$(MLOPS_PARAM_LEARNING_RATE)', '--max-depth', '$(MLOPS_PARAM_MAX_DEPTH)', '--optimizer', '$(MLOPS_PARAM_OPTIMIZER)'],
    inputs: { train: split.outputs.train, holdout: split.outputs.holdout },
    gpu: Gpu.nvidia(1),
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    timeout: Duration.hours(3),
  });

  // The winner's AUC is a typed value, known once the selection ran: export only a model
  // that reaches the team's bar, and stamp its AUC on the export. Below the bar, export is
  // skipped with the AUC in the reason: a result, not a failed run.
  new ContainerStep(pipeline, 'export', {
    command: ['python', '-m', 'trainer.export', '--format', 'onnx', '--auc', '$(MLOPS_VALUE_AUC)'],
    inputs: { model: tune.model, leaderboard: tune.leaderboard },
    inputValues: { auc: tune.bestValue },
    when: tune.bestValue.atLeast(0.8),
    outputs: { onnx: Dataset },
  });

  return pipeline;
}
