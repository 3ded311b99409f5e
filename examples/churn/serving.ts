import { Construct } from 'constructs';
import { ApprovedModel, Baseline, ModelRegistry, ModelServer, Pipeline, Promote, RegistryAccess, ServingRuntime } from '../../src';
import { churnPipeline, ChurnPipeline } from './pipeline';

/** The churn model's registry: an existing ReadWriteMany claim holding `churn/<version>/`. */
export const churnRegistry = ModelRegistry.fromClaimName('churn-models', { access: RegistryAccess.READ_WRITE_MANY });

/**
 * What comes after the churn pipeline's gate: `promote` publishes the approved model as
 * `churn/<version>/` in the registry, and `churn-server` serves the latest version behind an
 * autoscaled Deployment. The server loads its version at start, so the promotion restarts it;
 * a rejected model never reaches the promotion, and the previous version keeps serving.
 */
export function churnServing(pipeline: Pipeline, model: ApprovedModel): { server: ModelServer; promote: Promote } {
  const server = new ModelServer(pipeline, 'churn-server', {
    model: 'churn',
    registry: churnRegistry,
    runtime: ServingRuntime.image({ image: 'ghcr.io/acme-ml/churn-server:1.4.2', port: 8080, readinessPath: '/ready', livenessPath: '/healthz' }),
    autoscaling: { minReplicas: 2, maxReplicas: 8, cpuUtilization: 70 },
    minAvailable: 1,
    metrics: { port: 9090 },
  });
  const promote = new Promote(pipeline, 'promote', { model, registry: churnRegistry, modelName: 'churn', notify: [server] });
  return { server, promote };
}

/**
 * The churn example end to end (what dist/churn.k8s.yaml holds): the typed pipeline, whose
 * gate also compares with the latest published version, then promotion and serving.
 */
export function churnEndToEnd(scope: Construct): ChurnPipeline & { server: ModelServer; promote: Promote } {
  const churn = churnPipeline(scope, 'churn', {}, Baseline.fromRegistry(churnRegistry, 'churn'));
  return { ...churn, ...churnServing(churn.pipeline, churn.approvedModel) };
}
