import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { apiFixture, realKubectl } from '../support/kubectl';
import { K8sObject, synth } from '../support/synth';
import { gatedPipeline } from './fixtures';

/**
 * The gate's script run for real: bash, jq and the real kubectl, against the simulated API
 * server holding the synthesized objects, authenticated as the pipeline's reporter
 * ServiceAccount (so the synthesized Role decides what it may do). The workspace is a
 * sandbox folder where the evaluation's scripted behaviour wrote metrics.json.
 */
const SCRIPT = path.join(__dirname, '..', '..', 'assets', 'gate.sh');

interface GateRun { code: number; stdout: string; stderr: string; annotations: Record<string, string> }

async function runGate(metrics: object | string | undefined, baseline?: object): Promise<GateRun> {
  const objects: K8sObject[] = synth((app) => { gatedPipeline(app, true); }).objects;
  const gate = objects.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step'] === 'evaluate-gate')!;
  const env = Object.fromEntries(gate.spec.template.spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
  const f = await apiFixture(objects as any, { namespace: 'ml', name: 'churn-reporter' });
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-gate-'));
  try {
    const metricsDir = path.join(sandbox, 'metrics');
    fs.mkdirSync(metricsDir);
    if (metrics !== undefined) fs.writeFileSync(path.join(metricsDir, 'metrics.json'), typeof metrics === 'string' ? metrics : JSON.stringify(metrics));
    const baselineFile = path.join(sandbox, 'baseline.json');
    if (baseline) fs.writeFileSync(baselineFile, JSON.stringify(baseline));
    const kubectlDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-kubectl-bin-'));
    fs.symlinkSync(realKubectl().path, path.join(kubectlDir, 'kubectl'));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('/bin/bash', [SCRIPT], {
        env: {
          ...env,
          MLOPS_INPUT_METRICS: metricsDir,
          MLOPS_GATE_BASELINE: baselineFile,
          MLOPS_SELF: gate.metadata.name,
          MLOPS_NAMESPACE: 'ml',
          HOME: f.home,
          KUBECONFIG: f.config,
          PATH: `${kubectlDir}:/usr/bin:/bin`,
        },
      }, (e, stdout, stderr) => resolve({ code: e ? Number((e as any).code ?? 1) : 0, stdout, stderr }));
    });
    const got = await f.run('get', 'job', gate.metadata.name, '-n', 'ml', '-o', 'json');
    const annotations = JSON.parse(got.stdout).metadata.annotations ?? {};
    return { ...result, annotations };
  } finally {
    f.close();
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}

describe('the gate script, with real jq and kubectl, as the reporter ServiceAccount', () => {
  test('approves a first model on absolute thresholds only, and says so', async () => {
    const r = await runGate({ auc: 0.85, logloss: 0.31 });
    expect(r.code).toBe(0);
    expect(r.annotations['mlops.cdk8s.io/verdict']).toBe('approved');
    expect(r.annotations['mlops.cdk8s.io/verdict-detail'])
      .toBe('no baseline yet: judged on absolute thresholds only; auc 0.85 >= 0.8; logloss 0.31 <= 0.5; skipped: auc (no baseline yet)');
  });

  test('rejects with the numbers, as a result (exit 0, nothing to retry)', async () => {
    const r = await runGate({ auc: 0.74, logloss: 0.31 });
    expect(r.code).toBe(0);
    expect(r.annotations['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.74 < 0.8 (no baseline yet: absolute thresholds only)');
  });

  test('compares with the baseline once there is one, within the tolerance', async () => {
    const worse = await runGate({ auc: 0.85, logloss: 0.31 }, { auc: 0.9 });
    expect(worse.annotations['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.85 < baseline 0.9 - 0.01');
    const within = await runGate({ auc: 0.895, logloss: 0.31 }, { auc: 0.9 });
    expect(within.annotations['mlops.cdk8s.io/verdict']).toBe('approved');
    expect(within.annotations['mlops.cdk8s.io/verdict-detail']).toMatch(/^compared with model-registry:\/churn\/current\/metrics\.json; /);
  });

  test('crashes (exit 3, no verdict) when the metrics are missing, malformed or lack a thresholded metric', async () => {
    const missing = await runGate(undefined);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/metrics\.json is missing: the evaluation must write its metrics there as a JSON object/);
    expect(missing.annotations['mlops.cdk8s.io/verdict']).toBeUndefined();
    const malformed = await runGate('auc=0.9');
    expect(malformed.code).toBe(3);
    expect(malformed.annotations['mlops.cdk8s.io/verdict']).toBeUndefined();
    const partial = await runGate({ auc: 0.9 });
    expect(partial.code).toBe(3);
    expect(partial.stderr).toMatch(/metrics\.json has no number for 'logloss' \(got null\)/);
  });
});
