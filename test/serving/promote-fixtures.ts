import { App, Duration } from 'cdk8s';
import { Baseline, ModelRegistry, ModelServer, Pipeline, Promote, RegistryAccess, ServingRuntime, Threshold, ThresholdComparison } from '../../src';
import { churnSteps } from '../support/churn-steps';

const image = 'ghcr.io/acme/churn:1.0.0';

/**
 * ingest -> features -> train -> evaluate (+ gate, baseline from the registry) -> promote,
 * and two servers of the model: one on any image (restarted after a promotion) and one on
 * TensorFlow Serving (polls its folder). The registry is the claim `model-registry` unless
 * another is given.
 */
export function promotedPipeline(app: App, options: { runId?: string; ttl?: Duration; registry?: ModelRegistry } = {}) {
  const registry = options.registry ?? ModelRegistry.fromClaimName('model-registry', { access: RegistryAccess.READ_WRITE_MANY });
  const p = new Pipeline(app, 'churn', { namespace: 'ml', defaults: { image }, runId: options.runId, ttlAfterFinished: options.ttl });
  const { train, evaluate } = churnSteps(p, {
    thresholds: [Threshold.atLeast('auc', 0.8), Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST, 0.01)],
    baseline: Baseline.fromRegistry(registry, 'churn'),
  });
  const server = new ModelServer(p, 'churn-server', {
    model: 'churn', registry, runtime: ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' }),
  });
  const tf = new ModelServer(p, 'churn-tf', { model: 'churn', registry, runtime: ServingRuntime.tensorflowServing() });
  const promote = new Promote(p, 'promote', { model: evaluate.approvedModel, registry, modelName: 'churn', notify: [server, tf] });
  return { p, registry, train, evaluate, server, tf, promote };
}

/** The access key's Secret of the object-store registry: names in the YAML, values only in the simulated cluster. */
export const REGISTRY_SECRET = { secret: 'registry-s3', accessKeyIdKey: 'access-key-id', secretAccessKeyKey: 'secret-access-key' };

/**
 * The same pipeline and servers with the registry on an object store,
 * `s3://ml-models/registry` behind an S3-compatible endpoint.
 */
export function objectStorePipeline(app: App, options: { runId?: string; ttl?: Duration } = {}) {
  const registry = ModelRegistry.fromObjectStore('s3://ml-models/registry', { credentials: REGISTRY_SECRET, endpoint: 'http://minio.storage:9000', region: 'eu-west-1' });
  return promotedPipeline(app, { ...options, registry });
}
