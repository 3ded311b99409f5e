import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { main } from '../../src/cli/main';

const dist = join(__dirname, '..', '..', 'dist');

async function runCli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['verify', ...argv], { out: (t) => void (out += t), err: (t) => void (out += t) });
  return { code, out };
}

describe('cdk8s-mlops verify runs each pipeline\'s coordinator as a dry run', () => {
  test('the committed examples complete, in critical-path time, within the cap', async () => {
    const { code, out } = await runCli(dist, '--no-plan');
    expect(code).toBe(0);
    expect(out).toContain('dry run of churn: all 5 steps completed in 240s simulated (60s per step, critical path 4 steps); at most 2 at once; 1 list call per poll');
    // Six GPU trials under maxParallel 3 run in two waves: split + 2 waves + select.
    expect(out).toContain('dry run of sweep: all 8 steps completed in 240s simulated (60s per step, critical path 3 steps); at most 3 at once; 1 list call per poll');
  }, 60_000);

  test('a coordinator script edited into releasing nothing fails verification, without being run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-cli-'));
    const yaml = readFileSync(join(dist, 'churn.k8s.yaml'), 'utf8');
    // Break the decision: the release patch now re-suspends instead.
    const broken = yaml.replace('{spec: {suspend: false}}', '{spec: {suspend: true}}');
    expect(broken).not.toBe(yaml);
    writeFileSync(join(dir, 'churn.k8s.yaml'), broken);
    const { code, out } = await runCli(dir, '--no-plan');
    expect(code).toBe(1);
    expect(out).toMatch(/error: ConfigMap\/ml-churn\/churn-coordinator-\w+: the coordinator script differs from the one this version of cdk8s-mlops generates/);
    expect(out).not.toContain('coordinator log of churn:');
  }, 60_000);

  test('--no-simulate skips the dry run', async () => {
    const { code, out } = await runCli(dist, '--no-plan', '--no-simulate');
    expect(code).toBe(0);
    expect(out).not.toContain('dry run');
  });
});
