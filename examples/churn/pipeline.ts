import { Duration, Size } from 'cdk8s';
import { Cpu, EnvValue, Secret } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ContainerStep, Dataset, Features, Gpu, Metrics, Model, Pipeline, PipelineProps, Workspace } from '../../src';

/**
 * Customer churn: ingest last month's events from the data lake, profile them and build
 * features in parallel, train on a GPU, then evaluate against a minimum AUC.
 */
export function churnPipeline(scope: Construct, id = 'churn', props: PipelineProps = {}): Pipeline {
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

  const ingest = new ContainerStep(pipeline, 'ingest', {
    command: ['python', '-m', 'churn.ingest'],
    env: {
      SOURCE_URI: EnvValue.fromValue('s3://acme-datalake/churn/events/2026-10/'),
      AWS_ACCESS_KEY_ID: EnvValue.fromSecretValue({ secret: s3, key: 'access-key-id' }),
      AWS_SECRET_ACCESS_KEY: EnvValue.fromSecretValue({ secret: s3, key: 'secret-access-key' }),
    },
    outputs: { raw: Dataset },
    retries: 2,
  });

  const profile = new ContainerStep(pipeline, 'profile', {
    command: ['python', '-m', 'churn.profile'],
    inputs: { raw: ingest.outputs.raw },
    outputs: { profile: Metrics },
  });

  const features = new ContainerStep(pipeline, 'features', {
    command: ['python', '-m', 'churn.features'],
    inputs: { raw: ingest.outputs.raw },
    outputs: { features: Features },
  });

  const train = new ContainerStep(pipeline, 'train', {
    command: ['python', '-m', 'churn.train', '--epochs', '20'],
    inputs: { features: features.outputs.features },
    outputs: { model: Model },
    gpu: Gpu.nvidia(1),
    resources: {
      cpu: { request: Cpu.units(4), limit: Cpu.units(8) },
      memory: { request: Size.gibibytes(16), limit: Size.gibibytes(16) },
    },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    timeout: Duration.hours(2),
  });

  new ContainerStep(pipeline, 'evaluate', {
    command: ['python', '-m', 'churn.evaluate'],
    env: { MIN_AUC: EnvValue.fromValue('0.80') },
    inputs: { model: train.outputs.model, features: features.outputs.features, profile: profile.outputs.profile },
    outputs: { metrics: Metrics },
  });

  return pipeline;
}
