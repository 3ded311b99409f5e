import { Duration, Size } from 'cdk8s';
import { Cpu, Secret } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  ApprovedModel, ContainerStep, DataSource, Evaluate, FeatureEngineering, Gpu, IBaselineSource, Ingest, Metrics, ObjectStoreCredentials,
  Pipeline, PipelineProps, Threshold, ThresholdComparison, Train, Workspace,
} from '../../src';

/** The churn pipeline and the steps others build on (promotion and serving take `approvedModel`). */
export interface ChurnPipeline {
  readonly pipeline: Pipeline;
  readonly ingest: Ingest;
  readonly features: FeatureEngineering<{ train: number; test: number; seed: number }>;
  readonly train: Train;
  readonly evaluate: Evaluate;
  /** The trained model, once the evaluation's gate approved it. */
  readonly approvedModel: ApprovedModel;
}

/**
 * Customer churn: copy last month's events from the data lake (credentials from an existing
 * Secret), profile them while building features with a train/test split, train on a GPU,
 * then evaluate on the held-out split: the gate approves the model only with an AUC of at
 * least 0.8 (and, given a `baseline`, no more than 0.01 below it).
 */
export function churnPipeline(scope: Construct, id = 'churn', props: PipelineProps = {}, baseline?: IBaselineSource): ChurnPipeline {
  const pipeline = new Pipeline(scope, id, {
    namespace: 'ml-churn',
    workspace: Workspace.claim({ size: Size.gibibytes(50) }),
    defaults: {
      image: 'ghcr.io/acme-ml/churn:1.4.2',
      resources: {
        cpu: { request: Cpu.millis(500), limit: Cpu.units(2) },
        memory: { request: Size.gibibytes(2), limit: Size.gibibytes(4) },
      },
    },
    runDeadline: Duration.hours(6),
    ...props,
  });

  // Credentials stay in the cluster: the YAML only names the Secret and its keys.
  const s3 = Secret.fromSecretName(pipeline, 'S3Credentials', 'churn-s3-credentials');

  // No image: the built-in copy (rclone on its public image) needs no code.
  const ingest = new Ingest(pipeline, 'ingest', {
    source: DataSource.objectStore('s3://acme-datalake/churn/events/2026-10/', ObjectStoreCredentials.s3(s3, {
      accessKeyIdKey: 'access-key-id',
      secretAccessKeyKey: 'secret-access-key',
      region: 'eu-central-1',
    })),
    retries: 2,
  });

  new ContainerStep(pipeline, 'profile', {
    command: ['python', '-m', 'churn.profile'],
    inputs: { events: ingest.outputs.dataset },
    outputs: { profile: Metrics },
  });

  const features = new FeatureEngineering(pipeline, 'features', {
    command: ['python', '-m', 'churn.features'],
    datasets: { events: ingest.outputs.dataset },
    split: { train: 0.8, test: 0.2, seed: 7 },
  });

  const train = new Train(pipeline, 'train', {
    command: ['python', '-m', 'churn.train'],
    features: features.outputs.train,
    hyperparameters: { epochs: 20, learning_rate: 0.05 },
    gpu: Gpu.nvidia(1),
    resources: {
      cpu: { request: Cpu.units(4), limit: Cpu.units(8) },
      memory: { request: Size.gibibytes(16), limit: Size.gibibytes(16) },
    },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    timeout: Duration.hours(2),
  });

  const evaluate = new Evaluate(pipeline, 'evaluate', {
    command: ['python', '-m', 'churn.evaluate'],
    model: train.outputs.model,
    testData: features.outputs.test,
    metrics: ['auc', 'logloss'],
    // With a baseline (the served model's metrics), also no more than 0.01 below it.
    thresholds: [Threshold.atLeast('auc', 0.8), ...(baseline ? [Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST, 0.01)] : [])],
    baseline,
  });

  return { pipeline, ingest, features, train, evaluate, approvedModel: evaluate.approvedModel };
}
