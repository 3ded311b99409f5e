import { execFileSync, spawn } from 'child_process';
import { mkdirSync, mkdtempSync, readlinkSync, readdirSync, symlinkSync, writeFileSync } from 'fs';
import { createServer, IncomingMessage } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart, Duration } from 'cdk8s';
import { ModelRegistry, ModelServer, ModelServerProps, RegistryAccess, ServingRuntime } from '../../src';
import { verifyObjects } from '../../src/verify';
import { MLSERVER_RELOAD_SCRIPT } from '../../src/serving/mlserver';
import { TRITON_REPOSITORY_SCRIPT } from '../../src/serving/triton';
import { WAIT_FOR_VERSION_SCRIPT } from '../../src/serving/wait-for-version';
import { expectSynthFailure, findOne, K8sObject, synth } from '../support/synth';

const registry = ModelRegistry.fromClaimName('model-registry', { access: RegistryAccess.READ_WRITE_MANY });
const sklearn = ServingRuntime.mlserver({ implementation: 'mlserver_sklearn.SKLearnModel' });

function serve(props: Partial<ModelServerProps>): K8sObject[] {
  return synth((app) => {
    const chart = new Chart(app, 'serving', { namespace: 'ml' });
    new ModelServer(chart, 'rec', { model: 'recommend', registry, runtime: ServingRuntime.triton(), ...props });
  }).objects;
}

const errorsOf = (objects: K8sObject[]) => verifyObjects(objects).problems.filter((p) => p.severity === 'error');
const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true };

/** A registry folder with the given versions; those in `ready` hold the ready file. */
function registryDir(versions: string[], ready: string[], files: string[] = []): { dir: string; model: string } {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const model = join(dir, 'recommend');
  mkdirSync(model);
  for (const v of versions) mkdirSync(join(model, v));
  for (const v of ready) writeFileSync(join(model, v, 'READY'), '');
  for (const f of files) writeFileSync(join(model, f), 'name: "recommend"\n');
  return { dir, model };
}

describe('Triton', () => {
  test('polls its one-model repository, ready only once a version is loaded, restricted pods, strict 1.27 schema', () => {
    const objects = serve({});
    expect(errorsOf(objects)).toEqual([]);
    expect(objects.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy']);
    const pod = findOne(objects, 'Deployment').spec.template.spec;
    const [server] = pod.containers;
    expect(server.image).toBe('nvcr.io/nvidia/tritonserver:24.08-py3');
    expect(server.command).toEqual(['tritonserver']);
    expect(server.args).toEqual([
      '--model-repository=/run/mlops/repository', '--model-control-mode=poll', '--repository-poll-secs=30',
      '--exit-on-error=false', '--http-port=8000', '--grpc-port=8001', '--allow-metrics=false',
    ]);
    expect(server.readinessProbe.httpGet).toEqual({ path: '/v2/models/recommend/ready', port: 8000 });
    expect(server.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 8000 });
    expect(server.ports).toEqual([{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
    expect(server.securityContext).toEqual(RESTRICTED);
    // The server reads the repository the init container built; it cannot change it.
    expect(server.volumeMounts).toContainEqual({ name: 'current', mountPath: '/run/mlops', readOnly: true });
    const [init] = pod.initContainers;
    expect(init.securityContext).toEqual(RESTRICTED);
    expect(init.volumeMounts).toContainEqual({ name: 'current', mountPath: '/run/mlops' });
    expect(init.command.slice(0, 4)).toEqual(['bash', '-c', TRITON_REPOSITORY_SCRIPT, 'triton-repository']);
    expect(init.command.slice(5)).toEqual(['/models/recommend', '', '/run/mlops/model', '/run/mlops/repository', 'recommend']);
    expect(pod.containers).toHaveLength(1);
    expect(objects.some((o) => o.kind === 'ConfigMap')).toBe(false);
  });

  test('pinned (the rollback): Triton loads once, at start, and its repository shows the pinned version only', () => {
    const objects = serve({
      version: 3, metrics: { port: 9100 },
      runtime: ServingRuntime.triton({ pollInterval: Duration.seconds(10), image: 'nvcr.io/nvidia/tritonserver:24.01-py3' }),
    });
    expect(errorsOf(objects)).toEqual([]);
    const pod = findOne(objects, 'Deployment').spec.template.spec;
    expect(pod.containers[0].image).toBe('nvcr.io/nvidia/tritonserver:24.01-py3');
    expect(pod.containers[0].args).toEqual([
      '--model-repository=/run/mlops/repository', '--model-control-mode=none', '--exit-on-error=false', '--http-port=8000', '--grpc-port=8001',
      '--metrics-port=9100',
    ]);
    expect(findOne(objects, 'Deployment').spec.template.metadata.annotations['prometheus.io/port']).toBe('9100');
    expect(pod.initContainers[0].command.slice(5)).toEqual(['/models/recommend', '3', '/run/mlops/model', '/run/mlops/repository', 'recommend']);
  });

  test('the repository script, run by bash: links the model folder to follow the latest, or the pinned version and the model files', () => {
    const { dir, model } = registryDir(['3', '5', '8'], ['3', '5'], ['config.pbtxt', 'labels.txt']);
    const run = (pinned: string, repo: string) => execFileSync('bash',
      ['-c', TRITON_REPOSITORY_SCRIPT, 'triton-repository', WAIT_FOR_VERSION_SCRIPT, model, pinned, join(dir, `chosen-${pinned}`), repo, 'recommend'],
      { encoding: 'utf8', timeout: 30_000 });
    const latest = join(dir, 'latest');
    expect(run('', latest)).toBe(`serving version 5 of ${model}\ntriton repository ${latest}/recommend ready\n`);
    expect(readlinkSync(join(latest, 'recommend'))).toBe(model);
    const pinned = join(dir, 'pinned');
    run('3', pinned);
    expect(readdirSync(join(pinned, 'recommend')).sort()).toEqual(['3', 'config.pbtxt', 'labels.txt']);
    expect(readlinkSync(join(pinned, 'recommend', '3'))).toBe(join(model, '3'));
    expect(readlinkSync(join(pinned, 'recommend', 'config.pbtxt'))).toBe(join(model, 'config.pbtxt'));
    // Version 8 has no ready file: the script waits (here: until killed) and builds nothing.
    expect(() => execFileSync('bash', ['-c', TRITON_REPOSITORY_SCRIPT, 'triton-repository', WAIT_FOR_VERSION_SCRIPT, model, '8',
      join(dir, 'c'), join(dir, 'never'), 'recommend'], { timeout: 2_000 })).toThrow();
    expect(readdirSync(dir)).not.toContain('never');
  });
});

describe('MLServer', () => {
  test('generated model settings on a link to the chosen version, a reloader sidecar calling the load API, restricted pods', () => {
    const objects = serve({ runtime: sklearn, metrics: { port: 9090 } });
    expect(errorsOf(objects)).toEqual([]);
    const config = findOne(objects, 'ConfigMap');
    expect(config.metadata.name).toBe('rec-model-config');
    expect(JSON.parse(config.data['model-settings.json'])).toEqual({
      name: 'recommend', implementation: 'mlserver_sklearn.SKLearnModel', parameters: { uri: '/run/mlops/model' },
    });
    const pod = findOne(objects, 'Deployment').spec.template.spec;
    const [server, reloader] = pod.containers;
    expect(server.image).toBe('seldonio/mlserver:1.6.1');
    expect(server.command).toEqual(['mlserver', 'start', '/etc/mlserver']);
    expect(server.env).toEqual([
      { name: 'MLSERVER_HTTP_PORT', value: '8080' }, { name: 'MLSERVER_GRPC_PORT', value: '8081' }, { name: 'MLSERVER_METRICS_PORT', value: '9090' },
      { name: 'MLSERVER_METRICS_DIR', value: '/tmp/mlserver-metrics' }, { name: 'MLSERVER_ENVIRONMENTS_DIR', value: '/tmp/mlserver-envs' },
      { name: 'HOME', value: '/tmp' },
    ]);
    expect(server.volumeMounts).toContainEqual({ name: 'model-config', mountPath: '/etc/mlserver', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'model-config', configMap: { name: 'rec-model-config' } });
    expect(server.readinessProbe.httpGet).toEqual({ path: '/v2/models/recommend/ready', port: 8080 });
    expect(findOne(objects, 'Service').spec.ports.map((p: any) => p.port)).toEqual([8080, 9090]);
    expect(reloader.name).toBe('reloader');
    expect(reloader.image).toBe('seldonio/mlserver:1.6.1');
    expect(reloader.command).toEqual(['python', '-c', MLSERVER_RELOAD_SCRIPT, 'recommend', '/models/recommend', '/run/mlops/model', '8080', '30']);
    expect(reloader.volumeMounts).toContainEqual({ name: 'current', mountPath: '/run/mlops' });
    expect(reloader.resources).toEqual({ limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '10m', memory: '32Mi' } });
    for (const c of [...pod.containers, ...pod.initContainers]) expect(c.securityContext).toEqual(RESTRICTED);
    expect(pod.initContainers[0].command.slice(3)).toEqual(['wait-for-version', '/models/recommend', '', '/run/mlops/model']);
  });

  test('MLServer finds the mounted settings once: its repository glob (mlserver/repository/repository.py) skips the ConfigMap\'s hidden ..data folders', () => {
    // The layout the kubelet gives a ConfigMap volume: timestamped folder, ..data link, a link per key.
    const root = mkdtempSync(join(tmpdir(), 'mlserver-settings-'));
    mkdirSync(join(root, '..2026_11_27_10_00_00.1'));
    writeFileSync(join(root, '..2026_11_27_10_00_00.1', 'model-settings.json'), '{}');
    symlinkSync('..2026_11_27_10_00_00.1', join(root, '..data'));
    symlinkSync('..data/model-settings.json', join(root, 'model-settings.json'));
    const found = execFileSync('python3', ['-c', 'import glob, os, sys; print(glob.glob(os.path.join(sys.argv[1], "**", "model-settings.json"), recursive=True))', root], { encoding: 'utf8' });
    expect(found.trim()).toBe(`['${join(root, 'model-settings.json')}']`);
  });

  test('pinned: no reloader, the init container links the named version', () => {
    const pod = findOne(serve({ runtime: sklearn, version: 4 }), 'Deployment').spec.template.spec;
    expect(pod.containers.map((c: any) => c.name)).toEqual(['server']);
    expect(pod.initContainers[0].command.slice(3)).toEqual(['wait-for-version', '/models/recommend', '4', '/run/mlops/model']);
  });

  test('the reloader, run by python against a stand-in load API: re-links a newly ready version, calls load, retries a failed load', async () => {
    const { dir, model } = registryDir(['3', '5', '9'], ['3']);
    const link = join(dir, 'model');
    symlinkSync(join(model, '3'), link);
    const calls: string[] = [];
    let answered = 0;
    const server = createServer((req: IncomingMessage, res) => {
      calls.push(`${req.method} ${req.url} -> ${readlinkSync(link)}`);
      answered += 1;
      res.statusCode = answered === 1 ? 500 : 200; // the first load fails, the retry succeeds
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const child = spawn('python3', ['-c', MLSERVER_RELOAD_SCRIPT, 'recommend', model, link, String(port), '1']);
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    try {
      // Version 5 becomes ready; 9 never does (still being written).
      writeFileSync(join(model, '5', 'READY'), '');
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no successful load; calls ${JSON.stringify(calls)}, output ${out}`)), 20_000);
        const check = setInterval(() => {
          if (out.includes('serving version 5')) { clearTimeout(deadline); clearInterval(check); resolve(); }
        }, 100);
      });
    } finally {
      child.kill();
      server.close();
    }
    expect(calls).toEqual([
      `POST /v2/repository/models/recommend/load -> ${join(model, '5')}`,
      `POST /v2/repository/models/recommend/load -> ${join(model, '5')}`,
    ]);
    expect(out).toContain(`loading version 5 of ${model} failed (HTTP Error 500`);
    expect(out).toContain(`serving version 5 of ${model}\n`);
    expect(readlinkSync(link)).toBe(join(model, '5'));
  });
});

describe('runtime bad input fails synthesis with a precise error and writes nothing', () => {
  const fails = (props: Partial<ModelServerProps>, message: string) => expectSynthFailure((app) => {
    new ModelServer(new Chart(app, 'serving'), 'rec', { model: 'recommend', registry, runtime: ServingRuntime.triton(), ...props });
  }, message);

  test('a Triton poll interval of zero', () => fails({ runtime: ServingRuntime.triton({ pollInterval: Duration.seconds(0) }) },
    '[serving/rec] \'pollInterval\' must be a whole number of seconds of at least 1 (0 would stop Triton from ever seeing a new version), got 0'));
  test('an MLServer poll interval of half a second', () => fails({ runtime: ServingRuntime.mlserver({ implementation: 'x.Y', pollInterval: Duration.millis(500) }) },
    '[serving/rec] \'pollInterval\' must be a whole number of seconds of at least 1 (0 would stop MLServer from ever seeing a new version), got 0.5'));
  test('a metrics port on Triton\'s serving port', () => fails({ metrics: { port: 8000 } },
    '[serving/rec] metrics.port 8000 is also the serving port; Prometheus and clients need separate ports, choose another metrics port or leave metrics out'));
  test('a metrics port on MLServer\'s serving port', () => fails({ runtime: sklearn, metrics: { port: 8080 } },
    '[serving/rec] metrics.port 8080 is also the serving port; Prometheus and clients need separate ports, choose another metrics port or leave metrics out'));
  test('an MLServer implementation that is not a Python class', () => fails({ runtime: ServingRuntime.mlserver({ implementation: 'sklearn' }) },
    '[serving/rec] mlserver \'implementation\' must be the Python class of the model\'s runtime, such as \'mlserver_sklearn.SKLearnModel\', got "sklearn"'));
});
