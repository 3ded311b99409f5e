import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { apiFixture, realKubectl } from '../support/kubectl';
import { envOf, findOne, K8sObject, stepJobs, synth } from '../support/synth';
import { ModelServer, ServingRuntime } from '../../src';
import { promotedPipeline } from './promote-fixtures';

/**
 * The registry as the gate and the servers read it: the gate's script (real bash, jq and
 * kubectl, as the reporter) compares with the metrics the promotion recorded for the latest
 * ready version, and a pinned server's init script links the version it names.
 */
const GATE = path.join(__dirname, '..', '..', 'assets', 'gate.sh');

/** A registry folder of `churn` with versions: number -> [auc, ready]. */
function registryWith(versions: Record<string, [number, boolean]>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-registry-'));
  for (const [v, [auc, ready]] of Object.entries(versions)) {
    const dir = path.join(root, 'churn', v);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), 'model');
    fs.writeFileSync(path.join(dir, 'lineage.json'), JSON.stringify({ model: 'churn', version: Number(v), metrics: { auc, logloss: 0.3 } }));
    if (ready) fs.writeFileSync(path.join(dir, 'READY'), '');
  }
  return root;
}

async function judge(objects: K8sObject[], registry: string, auc: number): Promise<{ code: number; stderr: string; annotations: Record<string, string> }> {
  const gate = stepJobs(objects)['evaluate-gate'];
  const env = envOf(gate.spec.template.spec.containers[0]);
  const literal = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const f = await apiFixture(objects as any, { namespace: 'ml', name: 'churn-reporter' });
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-gate-'));
  try {
    fs.writeFileSync(path.join(sandbox, 'metrics.json'), JSON.stringify({ auc, logloss: 0.3 }));
    fs.symlinkSync(realKubectl().path, path.join(sandbox, 'kubectl'));
    // The registry claim is mounted at /mnt/baseline; here the sandbox registry stands for it.
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('/bin/bash', [GATE], {
        env: {
          ...literal,
          MLOPS_INPUT_METRICS: sandbox,
          MLOPS_GATE_BASELINE_REGISTRY: literal.MLOPS_GATE_BASELINE_REGISTRY.replace('/mnt/baseline', registry),
          MLOPS_SELF: gate.metadata.name,
          MLOPS_NAMESPACE: 'ml',
          HOME: f.home,
          KUBECONFIG: f.config,
          PATH: `${sandbox}:/usr/bin:/bin`,
        },
      }, (e, _stdout, stderr) => resolve({ code: e ? Number((e as any).code ?? 1) : 0, stderr }));
    });
    const got = await f.run('get', 'job', gate.metadata.name, '-n', 'ml', '-o', 'json');
    return { ...result, annotations: JSON.parse(got.stdout).metadata.annotations ?? {} };
  } finally {
    f.close();
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}

describe('Baseline.fromRegistry', () => {
  const objects = synth((app) => { promotedPipeline(app); }).objects;

  test('the gate mounts the registry read-only and is told the model folder', () => {
    const gate = stepJobs(objects)['evaluate-gate'];
    const pod = gate.spec.template.spec;
    expect(envOf(pod.containers[0])).toMatchObject({ MLOPS_GATE_BASELINE_REGISTRY: '/mnt/baseline/churn', MLOPS_GATE_BASELINE_NAME: 'churn in registry model-registry' });
    expect(envOf(pod.containers[0]).MLOPS_GATE_BASELINE).toBeUndefined();
    expect(pod.volumes).toContainEqual({ name: 'baseline', persistentVolumeClaim: { claimName: 'model-registry', readOnly: true } });
  });

  test('compares with the highest ready version, ignoring unready and non-integer folders', async () => {
    // 12 is the latest ready one; 13 is still being written, .staging-x is a promotion at work.
    const registry = registryWith({ 7: [0.99, true], 12: [0.9, true], 13: [0.5, false], '.staging-x': [0.1, true] });
    try {
      const worse = await judge(objects, registry, 0.85);
      expect(worse.annotations['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.85 < baseline 0.9 - 0.01');
      expect(worse.annotations['mlops.cdk8s.io/verdict-detail'])
        .toBe('compared with version 12 of churn in registry model-registry; auc 0.85 >= 0.8; auc 0.85 < baseline 0.9 - 0.01');
      const better = await judge(objects, registry, 0.92);
      expect(better.annotations['mlops.cdk8s.io/verdict']).toBe('approved');
    } finally {
      fs.rmSync(registry, { recursive: true, force: true });
    }
  });

  test('before the first promotion there is no baseline: absolute thresholds only', async () => {
    const registry = registryWith({ 1: [0.99, false] });
    try {
      const first = await judge(objects, registry, 0.85);
      expect(first.annotations['mlops.cdk8s.io/verdict']).toBe('approved');
      expect(first.annotations['mlops.cdk8s.io/verdict-detail']).toBe('no baseline yet: judged on absolute thresholds only; auc 0.85 >= 0.8; skipped: auc (no baseline yet)');
    } finally {
      fs.rmSync(registry, { recursive: true, force: true });
    }
  });

  test('a ready version without recorded metrics crashes the gate (exit 3, no verdict)', async () => {
    const registry = registryWith({ 4: [0.9, true] });
    fs.writeFileSync(path.join(registry, 'churn', '4', 'lineage.json'), '{}');
    try {
      const r = await judge(objects, registry, 0.85);
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(`gate: ${registry}/churn/4/lineage.json has no 'metrics' object: version 4 was not published by a promotion\n`);
      expect(r.annotations['mlops.cdk8s.io/verdict']).toBeUndefined();
    } finally {
      fs.rmSync(registry, { recursive: true, force: true });
    }
  });
});

describe('rollback: version on ModelServer', () => {
  test('the pinned server\'s init script links the named version of a registry, not the latest', () => {
    const { objects } = synth((app) => {
      const { p, registry } = promotedPipeline(app);
      new ModelServer(p, 'churn-pinned', { model: 'churn', registry, runtime: ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' }), version: 1 });
    });
    const wait = findOne(objects, 'Deployment', (o) => o.metadata.name === 'churn-pinned').spec.template.spec.initContainers[0];
    const registry = registryWith({ 1: [0.9, true], 2: [0.95, true] });
    try {
      const link = path.join(registry, 'current');
      // The init container's own command, with the sandbox standing for the /models mount.
      const argv = wait.command.map((a: string) => a.replace(/^\/models\//, `${registry}/`).replace('/run/mlops/model', link));
      expect(execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 })).toBe(`serving version 1 of ${registry}/churn\n`);
      expect(fs.readlinkSync(link)).toBe(path.join(registry, 'churn', '1'));
    } finally {
      fs.rmSync(registry, { recursive: true, force: true });
    }
  });
});
