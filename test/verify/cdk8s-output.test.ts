/**
 * No false positives on what cdk8s-plus-27 really synthesizes: a Job with a PVC, a ConfigMap
 * volume and a Secret env var, a Deployment exposed by a Service, and an HPA.
 */
import { Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { verifyObjects } from '../../src/verify';

function synth() {
  const app = Testing.app();
  const chart = new Chart(app, 'pipeline', { namespace: 'ml' });
  const pvc = new kplus.PersistentVolumeClaim(chart, 'data', { storage: Size.gibibytes(10), accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE] });
  const secret = kplus.Secret.fromSecretName(chart, 'creds', 'ml-credentials');
  const config = new kplus.ConfigMap(chart, 'config', { data: { 'params.yaml': 'lr: 0.1\n' } });
  const job = new kplus.Job(chart, 'train');
  const main = job.addContainer({
    image: 'python:3.12-slim',
    envVariables: { API_KEY: kplus.EnvValue.fromSecretValue({ secret, key: 'api-key' }) },
    resources: { cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) }, memory: { request: Size.mebibytes(512), limit: Size.gibibytes(2) } },
  });
  main.mount('/data', kplus.Volume.fromPersistentVolumeClaim(chart, 'data-volume', pvc));
  main.mount('/etc/params', kplus.Volume.fromConfigMap(chart, 'config-volume', config));
  const serve = new kplus.Deployment(chart, 'serve', { containers: [{ image: 'nginx:1.27', portNumber: 8080, securityContext: { ensureNonRoot: false } }] });
  serve.exposeViaService({ ports: [{ port: 80, targetPort: 8080 }] });
  new kplus.HorizontalPodAutoscaler(chart, 'hpa', {
    target: serve,
    maxReplicas: 5,
    metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(70))],
  });
  return Testing.synth(chart);
}

test('cdk8s-plus-27 output passes; the only finding is the Secret it deliberately does not create', () => {
  const objects = synth();
  expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PersistentVolumeClaim', 'Service']);
  const { problems } = verifyObjects(objects);
  expect(problems.map((p) => p.rule)).toEqual(['reference/secret']);
  expect(verifyObjects(objects, { external: { secrets: ['ml-credentials'] } }).problems).toEqual([]);
});
