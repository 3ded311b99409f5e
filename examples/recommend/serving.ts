import { Chart, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ModelRegistry, ModelServer, RegistryAccess, ServingRuntime, ServingSplit } from '../../src';

/**
 * Product recommendations: an A/B test of two versions of the ranking model, 41 (A) and 42
 * (B), behind one Service on Triton, half the pods each. Each version has its own
 * Deployment and autoscaler, so the split is per pod and drifts as load moves the two
 * autoscalers apart; the Service's `mlops.cdk8s.io/split` annotation says so. Ending the
 * test is a prop change: `version: 42` without `split` keeps the `ranker` Deployment and
 * rolls it to 42, and `ranker-b` leaves the YAML (docs/serving.md, "Promoting").
 */
export function recommendServing(scope: Construct): Chart {
  const chart = new Chart(scope, 'recommend', { namespace: 'ml-recsys' });
  new ModelServer(chart, 'ranker', {
    model: 'ranker',
    // Written by the training pipeline's promotion through a ReadWriteMany claim on the same volume.
    registry: ModelRegistry.fromClaimName('recsys-models', { access: RegistryAccess.READ_ONLY_MANY }),
    runtime: ServingRuntime.triton(),
    split: ServingSplit.abTest({ a: 41, b: 42, shareOfB: 50 }),
    autoscaling: { minReplicas: 4, maxReplicas: 12, cpuUtilization: 60 },
    minAvailable: 2,
    metrics: { port: 8002 },
    resources: { cpu: { request: Cpu.units(1), limit: Cpu.units(2) }, memory: { request: Size.gibibytes(2), limit: Size.gibibytes(4) } },
  });
  return chart;
}
