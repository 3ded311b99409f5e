import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { ContainerStep, Gpu, Model, ModelRegistry, ModelServer, ModelServerProps, Pipeline, RegistryAccess, ServingRuntime } from '../../src';
import { verifyObjects } from '../../src/verify';
import { WAIT_FOR_VERSION_SCRIPT } from '../../src/serving/wait-for-version';
import { expectSynthFailure, findOne, K8sObject, synth } from '../support/synth';

const registry = ModelRegistry.fromClaimName('model-registry', { access: RegistryAccess.READ_WRITE_MANY });
const custom = ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0', port: 8080, readinessPath: '/ready', livenessPath: '/live' });

function serve(props: Partial<ModelServerProps> = {}, id = 'churn-server'): K8sObject[] {
  return synth((app) => {
    const chart = new Chart(app, 'serving', { namespace: 'ml' });
    new ModelServer(chart, id, { model: 'churn', registry, runtime: ServingRuntime.tensorflowServing(), ...props });
  }).objects;
}

function errorsOf(objects: K8sObject[]) {
  return verifyObjects(objects).problems.filter((p) => p.severity === 'error');
}

describe('ModelServer', () => {
  test('TensorFlow Serving with autoscaling: Deployment, Service, HPA, PDB, NetworkPolicy that verify strictly against 1.27', () => {
    const objects = serve({ autoscaling: { minReplicas: 2, maxReplicas: 6, cpuUtilization: 60 }, minAvailable: 1 });
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service']);
    expect(errorsOf(objects)).toEqual([]);
    expect(objects.every((o) => o.metadata.namespace === 'ml' && o.metadata.name === 'churn-server')).toBe(true);

    const deployment = findOne(objects, 'Deployment');
    // The autoscaler owns the replica count: a declared one would be reset by every apply.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const pod = deployment.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    const [server] = pod.containers;
    expect(server.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(server.image).toBe('tensorflow/serving:2.14.1');
    expect(server.command).toEqual(['tensorflow_model_server']);
    expect(server.args).toEqual(['--port=8500', '--rest_api_port=8501', '--model_name=churn', '--model_base_path=/models/churn', '--file_system_poll_wait_seconds=30']);
    // Ready only once TF Serving has loaded a version; alive as long as it listens.
    expect(server.readinessProbe.httpGet).toEqual({ path: '/v1/models/churn', port: 8501 });
    expect(server.livenessProbe.tcpSocket).toEqual({ port: 8501 });
    expect(server.resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    // The registry, read-only; no workspace, no Job.
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'registry', persistentVolumeClaim: { claimName: 'model-registry', readOnly: true } },
    ]);
    expect(server.volumeMounts).toContainEqual({ name: 'registry', mountPath: '/models', readOnly: true });
    expect(pod.initContainers).toBeUndefined();

    const service = findOne(objects, 'Service');
    expect(service.spec).toEqual({ type: 'ClusterIP', selector: { 'mlops.cdk8s.io/server': 'churn-server' }, ports: [{ name: 'http', port: 8501, targetPort: 'http', protocol: 'TCP' }] });
    const hpa = findOne(objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'churn-server' }, minReplicas: 2, maxReplicas: 6,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    const pdb = findOne(objects, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ selector: { matchLabels: { 'mlops.cdk8s.io/server': 'churn-server' } }, minAvailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    const policy = findOne(objects, 'NetworkPolicy');
    expect(policy.spec).toEqual({ podSelector: { matchLabels: { 'mlops.cdk8s.io/server': 'churn-server' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ protocol: 'TCP', port: 8501 }] }] });
    for (const selecting of [service.spec.selector, pdb.spec.selector.matchLabels, policy.spec.podSelector.matchLabels]) {
      for (const [k, v] of Object.entries(selecting)) expect(deployment.spec.template.metadata.labels[k]).toBe(v);
    }
  });

  test('verify catches a Service that selects no server pod, so the check above can fail', () => {
    const objects = serve();
    findOne(objects, 'Service').spec.selector = { 'mlops.cdk8s.io/server': 'other' };
    findOne(objects, 'PodDisruptionBudget').spec.selector.matchLabels = { 'mlops.cdk8s.io/server': 'other' };
    expect(errorsOf(objects).map((p) => p.path)).toEqual(expect.arrayContaining(['/spec/selector']));
    expect(errorsOf(objects).length).toBeGreaterThanOrEqual(1);
  });

  test('a fixed replica count, the default budget, no HPA', () => {
    const objects = serve();
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
    expect(findOne(objects, 'Deployment').spec.replicas).toBe(2);
    expect(findOne(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(errorsOf(objects)).toEqual([]);
  });

  test('any image: an init container waits for a ready version and links it at MODEL_PATH; metrics scraped and admitted; GPU', () => {
    const objects = serve({
      runtime: custom, metrics: { port: 9090 }, gpu: Gpu.nvidia(1), serviceType: 'LoadBalancer',
      resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(4) } },
    });
    expect(errorsOf(objects)).toEqual([]);
    const deployment = findOne(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics' });
    const [server] = pod.containers;
    expect(server.env).toEqual([
      { name: 'MODEL_NAME', value: 'churn' }, { name: 'MODEL_BASE_PATH', value: '/models/churn' }, { name: 'MODEL_PATH', value: '/run/mlops/model' },
      { name: 'HOME', value: '/tmp' },
    ]);
    expect(server.readinessProbe.httpGet).toEqual({ path: '/ready', port: 8080 });
    expect(server.livenessProbe.httpGet).toEqual({ path: '/live', port: 8080 });
    expect(server.resources).toEqual({ requests: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' }, limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' } });
    const [wait] = pod.initContainers;
    expect(wait.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(wait.command.slice(3)).toEqual(['wait-for-version', '/models/churn', '', '/run/mlops/model']);
    expect(wait.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(findOne(objects, 'NetworkPolicy').spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 9090 }] }]);
    expect(findOne(objects, 'Service').spec.type).toBe('LoadBalancer');
  });

  test('the wait script, run by bash: picks the highest integer version holding READY, ignores temp and unfinished folders, waits for a pinned one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-'));
    const model = join(dir, 'churn');
    for (const v of ['7', '12', '99', '.tmp-100', 'latest']) mkdirSync(join(model, v), { recursive: true });
    for (const v of ['7', '12', '.tmp-100', 'latest']) writeFileSync(join(model, v, 'READY'), '');
    const run = (pinned: string, link: string) => execFileSync('bash', ['-c', WAIT_FOR_VERSION_SCRIPT, 'wait', model, pinned, link], { encoding: 'utf8', timeout: 30_000 });
    expect(run('', join(dir, 'a'))).toBe(`serving version 12 of ${model}\n`);
    expect(readlinkSync(join(dir, 'a'))).toBe(join(model, '12'));
    expect(run('7', join(dir, 'b'))).toBe(`serving version 7 of ${model}\n`);
    expect(readlinkSync(join(dir, 'b'))).toBe(join(model, '7'));
    // 99 has no READY file: still being written. The script waits (here: until killed).
    expect(() => execFileSync('bash', ['-c', WAIT_FOR_VERSION_SCRIPT, 'wait', model, '99', join(dir, 'c')], { encoding: 'utf8', timeout: 2_000 })).toThrow();
    const empty = join(dir, 'none');
    mkdirSync(empty);
    expect(() => execFileSync('bash', ['-c', WAIT_FOR_VERSION_SCRIPT, 'wait', empty, '', join(dir, 'd')], { encoding: 'utf8', timeout: 2_000 })).toThrow();
  });

  test('a rollback pins TensorFlow Serving to a version through its model config', () => {
    const objects = serve({ version: 1700000000 });
    expect(errorsOf(objects)).toEqual([]);
    const config = findOne(objects, 'ConfigMap');
    expect(config.data['models.config']).toBe([
      'model_config_list {', '  config {', '    name: "churn"', '    base_path: "/models/churn"', '    model_platform: "tensorflow"',
      '    model_version_policy { specific { versions: 1700000000 } }', '  }', '}', ''].join('\n'));
    const server = findOne(objects, 'Deployment').spec.template.spec.containers[0];
    expect(server.args).toContain('--model_config_file=/etc/tfserving/models.config');
    expect(server.args.some((a: string) => a.startsWith('--model_base_path'))).toBe(false);
    expect(server.volumeMounts).toContainEqual({ name: 'model-config', mountPath: '/etc/tfserving', readOnly: true });
  });

  test('a rollback of any image waits for and links the named version', () => {
    const wait = findOne(serve({ runtime: custom, version: 12 }), 'Deployment').spec.template.spec.initContainers[0];
    expect(wait.command.slice(3)).toEqual(['wait-for-version', '/models/churn', '12', '/run/mlops/model']);
  });

  test('next to a pipeline, the server references no Job and not the workspace: TTL deletion of every Job leaves it intact', () => {
    const { objects } = synth((app) => {
      const p = new Pipeline(app, 'churn', { ttlAfterFinished: Duration.hours(1), defaults: { image: 'python:3.12-slim' } });
      new ContainerStep(p, 'train', { outputs: { model: Model } });
      new ModelServer(p, 'serve', { model: 'churn', registry, runtime: ServingRuntime.tensorflowServing(), autoscaling: { minReplicas: 2, maxReplicas: 4 } });
    });
    expect(errorsOf(objects)).toEqual([]);
    const jobNames = objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name);
    const claims = objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name);
    expect(jobNames.length).toBeGreaterThan(0);
    const serving = objects.filter((o) => ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy'].includes(o.kind));
    expect(serving).toHaveLength(5);
    const text = JSON.stringify(serving);
    for (const name of [...jobNames, ...claims]) expect(text).not.toContain(name);
    // The serving objects alone (every Job gone) still verify.
    expect(errorsOf(objects.filter((o) => o.kind !== 'Job'))).toEqual([]);
  });

  test('a ReadWriteOnce registry read by replicas on several nodes is a warning at synth', () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => { writes.push(String(chunk)); return true; });
    try {
      synth((app) => {
        const chart = new Chart(app, 'serving');
        new ModelServer(chart, 'churn-server', {
          model: 'churn', runtime: ServingRuntime.tensorflowServing(), autoscaling: { minReplicas: 2, maxReplicas: 5 },
          registry: ModelRegistry.fromClaimName('models-rwo', { access: RegistryAccess.READ_WRITE_ONCE }),
        });
        new ModelServer(chart, 'single', {
          model: 'churn', runtime: ServingRuntime.tensorflowServing(), replicas: 1,
          registry: ModelRegistry.fromClaimName('models-rwo', { access: RegistryAccess.READ_WRITE_ONCE }),
        });
      });
    } finally {
      spy.mockRestore();
    }
    expect(writes).toEqual([
      '[serving/churn-server] warning: registry claim \'models-rwo\' is ReadWriteOnce and up to 5 replicas may land on several nodes: '
      + 'pods on a second node stay in ContainerCreating (Multi-Attach error); use a ReadWriteMany or ReadOnlyMany claim, '
      + 'or keep the replicas on one node with a nodeSelector\n',
    ]);
  });
});

describe('ModelServer bad input fails synthesis with a precise error and writes nothing', () => {
  const fails = (props: Partial<ModelServerProps>, message: string) => expectSynthFailure((app) => {
    const chart = new Chart(app, 'serving');
    new ModelServer(chart, 'churn-server', { model: 'churn', registry, runtime: ServingRuntime.tensorflowServing(), ...props });
  }, message);

  test('HPA bounds reversed', () => fails({ autoscaling: { minReplicas: 5, maxReplicas: 2 } },
    '[serving/churn-server] \'autoscaling.maxReplicas\' (2) is below \'autoscaling.minReplicas\' (5); swap them'));
  test('HPA minimum below the disruption budget', () => fails({ autoscaling: { minReplicas: 1, maxReplicas: 4 }, minAvailable: 2 },
    '[serving/churn-server] \'autoscaling.minReplicas\' (1) is below the disruption budget\'s minAvailable (2): no pod could ever be evicted '
    + 'and node drains would hang; raise \'autoscaling.minReplicas\' or lower minAvailable'));
  test('fixed replicas below the disruption budget', () => fails({ replicas: 1, minAvailable: 2 },
    '[serving/churn-server] \'replicas\' (1) is below the disruption budget\'s minAvailable (2): no pod could ever be evicted '
    + 'and node drains would hang; raise \'replicas\' or lower minAvailable'));
  test('replicas and autoscaling together', () => fails({ replicas: 3, autoscaling: { minReplicas: 2, maxReplicas: 4 } },
    '[serving/churn-server] replicas and autoscaling are both set; the autoscaler chooses the replica count: remove replicas'));
  test('probes on a port the server does not expose', () => fails({ runtime: ServingRuntime.image({ image: 'ghcr.io/acme/s:1', port: 8080, probePort: 8081 }) },
    '[serving/churn-server] probes call port 8081, which the server does not expose (serving port 8080); probe the serving port or the metrics port'));
  test('probes on the metrics port are fine', () => {
    expect(errorsOf(serve({ runtime: ServingRuntime.image({ image: 'ghcr.io/acme/s:1', port: 8080, probePort: 9090 }), metrics: { port: 9090 } }))).toEqual([]);
  });
  test('a serving port that collides with the metrics port', () => fails({ metrics: { port: 8501 } },
    '[serving/churn-server] metrics.port 8501 is also the serving port; Prometheus and clients need separate ports, choose another metrics port or leave metrics out'));
  test('a port out of range', () => fails({ metrics: { port: 70000 } },
    '[serving/churn-server] metrics.port must be a whole number from 1 to 65535, got 70000'));
  test('an invalid model name', () => fails({ model: 'Churn_Model' },
    '[serving/churn-server] model \'Churn_Model\' is not a valid model name: use only lowercase letters, digits and \'-\', starting and ending with a letter or digit'));
  test('a server name that is not a Service name', () => fails({ name: '1-server' },
    '[serving/churn-server] server name \'1-server\' is not a valid Service name: use at most 63 lowercase letters, digits and \'-\', '
    + 'starting with a letter and ending with a letter or digit; set name or rename the construct'));
  test('a poll interval of zero', () => fails({ runtime: ServingRuntime.tensorflowServing({ pollInterval: Duration.seconds(0) }) },
    '[serving/churn-server] \'pollInterval\' must be a whole number of seconds of at least 1 (0 would stop TensorFlow Serving from ever seeing a new version), got 0'));
  test('a version that is not a whole number', () => fails({ version: 1.5 },
    '[serving/churn-server] \'version\' must be a whole, non-negative number (a version folder of the registry), got 1.5'));
  test('a bad GPU count', () => fails({ gpu: Gpu.nvidia(0) },
    '[serving/churn-server] gpu count must be a whole number from 1 to 256 (no node offers one pod more), got 0'));
  test('root with runAsNonRoot', () => fails({ security: { user: 0 } },
    '[serving/churn-server] \'security.user\' is 0 (root) while runAsNonRoot is on: the kubelet would refuse to start the container; '
    + 'use a non-zero uid, or set security.runAsNonRoot to false to run as root on purpose'));
  test('a bad registry claim name', () => fails({ registry: ModelRegistry.fromClaimName('Models', { access: RegistryAccess.READ_WRITE_MANY }) },
    '[serving/churn-server] registry claim \'Models\' is not a valid claim name: use at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit'));
  test('cpu request above its limit', () => fails({ resources: { cpu: { request: Cpu.units(4), limit: Cpu.units(2) } } },
    '[serving/churn-server] \'resources.cpu.request\' (4) is larger than its limit (2); raise the limit or lower the request'));
});
