import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { Artifact, ContainerStep, Dataset, Gpu, Metrics, Model, Pipeline, Workspace, WorkspaceAccess } from '../../src';

/** The learning rates tried; one GPU trial each. */
const LEARNING_RATES = ['0.1', '0.03', '0.01', '0.003', '0.001', '0.0003'];

/**
 * A hyperparameter sweep: split the data once, train one trial per learning rate on a GPU
 * (at most three at a time, the team's GPU quota), then pick the best model.
 */
export function sweepPipeline(scope: Construct): Pipeline {
  const pipeline = new Pipeline(scope, 'sweep', {
    namespace: 'ml-research',
    workspace: Workspace.claim({ size: Size.gibibytes(100), storageClassName: 'filestore-rwx', access: WorkspaceAccess.READ_WRITE_MANY }),
    defaults: { image: 'ghcr.io/acme-ml/trainer:2.0.1' },
    maxParallel: 3,
    runDeadline: Duration.hours(12),
  });

  const split = new ContainerStep(pipeline, 'split', {
    command: ['python', '-m', 'trainer.split', '--holdout', '0.2'],
    outputs: { train: Dataset, holdout: Dataset },
  });

  const candidates: Record<string, Artifact> = {};
  LEARNING_RATES.forEach((lr, i) => {
    const trial = new ContainerStep(pipeline, `trial-${i}`, {
      command: ['python', '-m', 'trainer.fit', '--learning-rate', lr],
      inputs: { train: split.outputs.train },
      outputs: { model: Model },
      gpu: Gpu.nvidia(1),
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      timeout: Duration.hours(3),
    });
    candidates[`model_${i}`] = trial.outputs.model;
  });

  new ContainerStep(pipeline, 'select', {
    command: ['python', '-m', 'trainer.select', '--metric', 'auc'],
    inputs: { holdout: split.outputs.holdout, ...candidates },
    outputs: { best: Model, leaderboard: Metrics },
  });

  return pipeline;
}
