import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { coordinatorScript } from '../../src/backends/plain/assets';
import { main } from '../../src/cli/main';

const dist = join(__dirname, '..', '..', 'dist');
const REGENERATE = 'regenerate the YAML with cdk8s synth and this version of cdk8s-mlops, and do not edit it by hand';
const NOT_RUN = 'the dry run would execute it with your bash as your user, so it was not run';

/**
 * The churn example with `edit` applied to its coordinator Job and ConfigMap, written to a
 * fresh folder, and a marker path outside any sandbox that hostile YAML tries to create.
 */
function tampered(edit: (job: any, configMap: any, marker: string) => void): { dir: string; marker: string; job: string; configMap: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-tamper-'));
  const marker = join(dir, 'pwned');
  const docs = parseAllDocuments(readFileSync(join(dist, 'churn.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  const job = docs.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator');
  const configMap = docs.find((o) => o.kind === 'ConfigMap' && o.data?.['coordinate.sh']);
  edit(job, configMap, marker);
  writeFileSync(join(dir, 'churn.k8s.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return { dir, marker, job: `Job/ml-churn/${job.metadata.name}`, configMap: `ConfigMap/ml-churn/${configMap.metadata.name}` };
}

async function verify(dir: string): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['verify', dir, '--no-plan'], { out: (t) => void (out += t), err: (t) => void (out += t) });
  return { code, out };
}

describe('verify runs only the coordinator this version of the library generates', () => {
  test('the script it compares with is the library\'s own, which the committed YAML carries byte for byte', () => {
    const yaml = readFileSync(join(dist, 'churn.k8s.yaml'), 'utf8');
    const configMap = parseAllDocuments(yaml).map((d) => d.toJS()).find((o) => o.kind === 'ConfigMap' && o.data?.['coordinate.sh']);
    expect(configMap.data['coordinate.sh']).toBe(coordinatorScript());
  });

  test('a ConfigMap script that writes a file outside the sandbox is refused, and the file is not written', async () => {
    const t = tampered((_job, cm, marker) => {
      cm.data['coordinate.sh'] = cm.data['coordinate.sh'].replace('\n', `\necho owned > ${marker}\n`);
    });
    const { code, out } = await verify(t.dir);
    expect(code).toBe(1);
    expect(out).toContain(`error: ${t.configMap}: the coordinator script differs from the one this version of cdk8s-mlops generates `
      + `(first difference at line 2); ${NOT_RUN}: ${REGENERATE}\n`);
    expect(out).toContain('dry run of churn: not run, its coordinator is not the one cdk8s-mlops generates');
    expect(out).toMatch(/\n1 error, \d+ warnings? in \d+ objects from 1 file\n$/);
    expect(existsSync(t.marker)).toBe(false);
  }, 60_000);

  test('a container that runs bash -c instead of the script is refused, and runs nothing', async () => {
    const t = tampered((job, _cm, marker) => {
      job.spec.template.spec.containers[0].command = ['/bin/bash', '-c', `echo owned > ${marker}`];
    });
    const { code, out } = await verify(t.dir);
    expect(code).toBe(1);
    expect(out).toContain(`error: ${t.job}: the coordinator container runs ["/bin/bash","-c","echo owned > ${t.marker}"], `
      + `not ["/bin/bash","/etc/mlops/coordinate.sh"] as cdk8s-mlops writes it; ${NOT_RUN}: ${REGENERATE}\n`);
    expect(existsSync(t.marker)).toBe(false);
  }, 60_000);

  test('BASH_ENV, which bash sources before the script, is refused', async () => {
    const t = tampered((job, cm, marker) => {
      cm.data.evil = `echo owned > ${marker}\n`;
      job.spec.template.spec.containers[0].env.push({ name: 'BASH_ENV', value: '/etc/mlops/evil' });
    });
    const { code, out } = await verify(t.dir);
    expect(code).toBe(1);
    expect(out).toContain(`error: ${t.job}: the coordinator container sets BASH_ENV, a variable cdk8s-mlops never sets (the shell or loader may act on it); ${NOT_RUN}: ${REGENERATE}\n`);
    expect(existsSync(t.marker)).toBe(false);
  }, 60_000);

  test('a coordinator setting that points at a file of the machine running verify is refused', async () => {
    const t = tampered((job) => {
      job.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MLOPS_PLAN').value = '/etc/passwd';
    });
    const { code, out } = await verify(t.dir);
    expect(code).toBe(1);
    expect(out).toContain(`error: ${t.job}: MLOPS_PLAN is '/etc/passwd', a path outside the container's own mounts, which would point into the machine running verify; ${NOT_RUN}: ${REGENERATE}\n`);
    expect(out).not.toContain('root:');
  }, 60_000);
});

describe('verify runs only the library scripts this version ships: the gate of the churn example', () => {
  /** The churn example with `edit` applied to its gate Job and the gate's ConfigMap. */
  function tamperedGate(edit: (job: any, configMap: any, marker: string) => void): { dir: string; marker: string } {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-tamper-'));
    const marker = join(dir, 'pwned');
    const docs = parseAllDocuments(readFileSync(join(dist, 'churn.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const job = docs.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step'] === 'evaluate-gate');
    const configMap = docs.find((o) => o.kind === 'ConfigMap' && o.data?.['gate.sh']);
    edit(job, configMap, marker);
    writeFileSync(join(dir, 'churn.k8s.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    return { dir, marker };
  }

  test('the committed gate is run, and approves the metrics the dry run has the evaluation write; the promotion publishes', async () => {
    // The churn example's file alone: dist/ holds every example, whose dry runs test/cli/dry-run.test.ts covers.
    const t = tamperedGate(() => undefined);
    const { code, out } = await verify(t.dir);
    expect(out).toContain('dry run of churn: all 7 steps completed');
    expect(code).toBe(0);
  }, 120_000);

  test('an edited gate script is not run, and the file it would write is not written', async () => {
    const t = tamperedGate((_job, cm, marker) => {
      cm.data['gate.sh'] = cm.data['gate.sh'].replace('\n', `\necho owned > ${marker}\n`);
    });
    const { code, out } = await verify(t.dir);
    expect(code).toBe(1);
    expect(out).toContain('container "gate" of step evaluate-gate was not run: its script is not one this version of cdk8s-mlops ships; regenerate the YAML with cdk8s synth');
    expect(existsSync(t.marker)).toBe(false);
  }, 120_000);

  test('BASH_ENV on the gate container is refused before bash could source it', async () => {
    const t = tamperedGate((job, cm, marker) => {
      cm.data.evil = `echo owned > ${marker}\n`;
      job.spec.template.spec.containers[0].env.push({ name: 'BASH_ENV', value: '/etc/mlops/evil' });
    });
    const { code, out } = await verify(t.dir);
    expect(code).toBe(1);
    expect(out).toContain('container "gate" of step evaluate-gate was not run: it sets BASH_ENV, a variable cdk8s-mlops never sets (the shell or loader may act on it)');
    expect(existsSync(t.marker)).toBe(false);
  }, 120_000);
});

describe('verify runs a promotion only with the hook cdk8s-mlops generates', () => {
  test('a command written into the promotion\'s hooks is not run, and the file it would write is not written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-tamper-'));
    const marker = join(dir, 'pwned');
    const docs = parseAllDocuments(readFileSync(join(dist, 'churn.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const job = docs.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step'] === 'promote');
    job.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MLOPS_PROMOTION_HOOKS').value = JSON.stringify([{ description: 'x', command: ['bash', '-c', `echo owned > ${marker}`] }]);
    writeFileSync(join(dir, 'churn.k8s.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    const { code, out } = await verify(dir);
    expect(code).toBe(1);
    expect(out).toContain('container "promote" of step promote was not run: MLOPS_PROMOTION_HOOKS names a command other than `kubectl rollout restart deployment/<name>`; a dry run runs no command a file names');
    expect(existsSync(marker)).toBe(false);
  }, 120_000);
});
