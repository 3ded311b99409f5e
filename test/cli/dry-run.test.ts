import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { stringify } from 'yaml';
import { dryRunOptions, STEP_SECONDS } from '../../src/cli/dry-run';
import { main } from '../../src/cli/main';
import { derivePlans } from '../../src/verify';
import { which } from '../../src/verify/simulator/standins';
import { dag, synthPipeline } from '../simulation/fixtures';
import { realKubectl } from '../support/kubectl';

const dist = join(__dirname, '..', '..', 'dist');

async function runCli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['verify', ...argv], { out: (t) => void (out += t), err: (t) => void (out += t) });
  return { code, out };
}

/** Run with these environment variables set (undefined: unset), then put them back. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

/** A PATH with bash and jq (what the script needs) and no kubectl. */
function pathWithoutKubectl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-path-'));
  for (const tool of ['bash', 'jq']) symlinkSync(which(tool)!, join(dir, tool));
  return dir;
}

function writeYaml(objects: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-cli-'));
  writeFileSync(join(dir, 'p.k8s.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  return dir;
}

describe('cdk8s-mlops verify runs each pipeline\'s coordinator as a dry run, with the real kubectl', () => {
  const kubectl = realKubectl().path;

  test('the committed examples complete, in critical-path time, within the cap, and the client is named', async () => {
    const { code, out } = await withEnv({ MLOPS_KUBECTL: kubectl }, () => runCli(dist, '--no-plan'));
    expect(code).toBe(0);
    expect(out).toContain(`dry runs use kubectl ${kubectl} (from MLOPS_KUBECTL): Client Version: v1.28.3\n`);
    // The gate and the promotion run their scripts in no simulated time: the critical path's four
    // other steps take 60 s each, and the promotion is released one poll after the gate.
    expect(out).toContain('dry run of churn: all 7 steps completed in 245s simulated (60s per step, critical path 6 steps); at most 2 at once; 1 list call per poll');
    // Twelve GPU trials, at most 3 at once (their group's cap), run in four waves: split + 4 waves + select. The dry
    // run's trials write an AUC of 0, so export (when the best AUC is at least 0.8) is skipped by its condition.
    expect(out).toContain('dry run of sweep: 14 of 15 steps completed, 1 skipped by their trigger rule or condition, in 360s simulated '
      + '(60s per step, critical path 4 steps); at most 3 at once; 1 list call per poll');
  });

  test('a coordinator script edited into releasing nothing fails verification, without being run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-cli-'));
    const yaml = readFileSync(join(dist, 'churn.k8s.yaml'), 'utf8');
    // Break the decision: the release patch now re-suspends instead.
    const broken = yaml.replace('{spec: ({suspend: false}', '{spec: ({suspend: true}');
    expect(broken).not.toBe(yaml);
    writeFileSync(join(dir, 'churn.k8s.yaml'), broken);
    const { code, out } = await withEnv({ MLOPS_KUBECTL: kubectl }, () => runCli(dir, '--no-plan'));
    expect(code).toBe(1);
    expect(out).toMatch(/error: ConfigMap\/ml-churn\/churn-coordinator-\w+: the coordinator script differs from the one this version of cdk8s-mlops generates/);
    expect(out).not.toContain('coordinator log of churn:');
  });

  test('--no-simulate skips the dry run', async () => {
    const { code, out } = await runCli(dist, '--no-plan', '--no-simulate');
    expect(code).toBe(0);
    expect(out).not.toContain('dry run');
  });

  test('without a kubectl the dry run is skipped with a warning saying why; --require-dry-run and --strict make it fail', async () => {
    const env = { MLOPS_KUBECTL: undefined, PATH: pathWithoutKubectl() };
    const plain = await withEnv(env, () => runCli(dist, '--no-plan'));
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('warning: dry run skipped: no kubectl found (set MLOPS_KUBECTL or put kubectl on PATH)\n');
    expect(plain.out).toContain('0 errors, 1 warning');
    const required = await withEnv(env, () => runCli(dist, '--no-plan', '--require-dry-run'));
    expect(required.code).toBe(1);
    expect(required.out).toContain('error: dry run skipped: no kubectl found (set MLOPS_KUBECTL or put kubectl on PATH)\n');
    expect((await withEnv(env, () => runCli(dist, '--no-plan', '--strict'))).code).toBe(1);
  });

  test('MLOPS_KUBECTL naming something that is not kubectl is an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bad-'));
    mkdirSync(join(dir, 'bin'));
    const fake = join(dir, 'bin', 'kubectl');
    writeFileSync(fake, '#!/bin/sh\nexit 3\n');
    chmodSync(fake, 0o755);
    const { code, out } = await withEnv({ MLOPS_KUBECTL: fake }, () => runCli(dist, '--no-plan'));
    expect(code).toBe(1);
    expect(out).toContain(`error: dry run skipped: ${fake} does not answer \`kubectl version --client -o json\``);
  });

  test('steps with a timeout of 60 s or less are simulated within it, and the pipeline passes', async () => {
    const objects = synthPipeline({ steps: dag('a->b->c', { b: { timeoutSeconds: 30 }, c: { timeoutSeconds: 60 } }) });
    const [plan] = derivePlans(objects, { namespace: 'ml' });
    expect(dryRunOptions(plan, objects).steps).toEqual({ a: { durations: [STEP_SECONDS] }, b: { durations: [15] }, c: { durations: [30] } });
    const { code, out } = await withEnv({ MLOPS_KUBECTL: kubectl }, () => runCli(writeYaml(objects), '--no-plan'));
    expect(out).toContain('dry run of demo: all 3 steps completed in 110s simulated (60s per step, less for 2 with a shorter timeout, critical path 3 steps)');
    expect(code).toBe(0);
  });

  test('the wall-clock budget grows with the pipeline: 5,100 steps get far more than 60 s', () => {
    const objects = synthPipeline({ steps: dag('a->b') });
    const [plan] = derivePlans(objects, { namespace: 'ml' });
    const wide = { ...plan, steps: Array.from({ length: 5100 }, (_, i) => ({ ...plan.steps[0], step: `s${i}`, job: `demo-s${i}` })) };
    expect(dryRunOptions(plan, objects).timeoutMs).toBe(120_000 + 400 * 2);
    expect(dryRunOptions(wide, objects).timeoutMs).toBe(120_000 + 400 * 5100);
  });
});
