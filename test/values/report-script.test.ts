import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { apiFixture, realKubectl } from '../support/kubectl';
import { K8sObject, stepJobs, synth } from '../support/synth';
import { branchPipeline } from './fixtures';

/**
 * The values reporter's script run for real: bash, jq and the real kubectl, against the
 * simulated API server holding the synthesized objects, authenticated as the pipeline's
 * reporter ServiceAccount (so the synthesized Role decides what it may do). The values
 * folder is a sandbox where the test writes what the step's container would.
 */
const SCRIPT = path.join(__dirname, '..', '..', 'assets', 'report-values.sh');

interface ReportRun { code: number; stdout: string; stderr: string; annotations: Record<string, string> }

async function report(files: Record<string, string | { link: string }>): Promise<ReportRun> {
  const objects: K8sObject[] = synth((app) => { branchPipeline(app); }).objects;
  const train = stepJobs(objects).train;
  const container = train.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
  const f = await apiFixture(objects as any, { namespace: 'ml', name: 'branch-reporter' });
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-values-'));
  try {
    const dir = path.join(sandbox, 'values');
    fs.mkdirSync(dir);
    for (const [name, content] of Object.entries(files)) {
      if (typeof content === 'string') fs.writeFileSync(path.join(dir, name), content);
      else fs.symlinkSync(content.link, path.join(dir, name));
    }
    const kubectlDir = path.join(sandbox, 'bin');
    fs.mkdirSync(kubectlDir);
    fs.symlinkSync(realKubectl().path, path.join(kubectlDir, 'kubectl'));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('/bin/bash', [SCRIPT], {
        env: {
          ...env,
          MLOPS_VALUES: dir,
          MLOPS_SELF: train.metadata.name,
          MLOPS_NAMESPACE: 'ml',
          HOME: f.home,
          KUBECONFIG: f.config,
          PATH: `${kubectlDir}:/usr/bin:/bin`,
        },
      }, (e, stdout, stderr) => resolve({ code: e ? Number((e as any).code ?? 1) : 0, stdout, stderr }));
    });
    const got = await f.run('get', 'job', train.metadata.name, '-n', 'ml', '-o', 'json');
    const annotations = JSON.parse(got.stdout).metadata.annotations ?? {};
    return { ...result, annotations };
  } finally {
    f.close();
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}

const good = { accuracy: '0.93\n', url: 'https://models.acme/churn/7\n', promoted: 'true', report: '{"auc": 0.91,\n "rows": [1, 2]}\n' };

describe('the values reporter, with real jq and kubectl, as the reporter ServiceAccount', () => {
  test('writes every value on its own Job as one compact JSON object, typed: strings lose one trailing newline', async () => {
    const r = await report(good);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.annotations['mlops.cdk8s.io/values'])).toEqual({ accuracy: 0.93, url: 'https://models.acme/churn/7', promoted: true, report: { auc: 0.91, rows: [1, 2] } });
    expect(r.annotations['mlops.cdk8s.io/values']).toBe('{"accuracy":0.93,"url":"https://models.acme/churn/7","promoted":true,"report":{"auc":0.91,"rows":[1,2]}}');
    expect(r.stdout).toContain('values: {"accuracy":0.93');
    expect(r.annotations['mlops.cdk8s.io/failure-reason']).toBeUndefined();
  });

  test.each([
    ['a number that is not one', { accuracy: 'high' }, 'value \'accuracy\' is not a number: got "high"; write one JSON number, e.g. 0.93'],
    ['two numbers', { accuracy: '0.9 0.8' }, 'value \'accuracy\' is not a number: got "0.9 0.8"; write one JSON number, e.g. 0.93'],
    ['a boolean written as a word of another language', { promoted: 'yes' }, 'value \'promoted\' is not a boolean: got "yes"; write true or false'],
    ['JSON that does not parse', { report: '{"auc": ' }, 'value \'report\' is not one JSON document: got "{\\"auc\\": "'],
    ['a missing file', { url: undefined }, 'value \'url\' was not written: the step must write it to the file $MLOPS_VALUES/url'],
    ['a value over the limit', { report: JSON.stringify({ rows: 'x'.repeat(5000) }) }, 'value \'report\' is 5011 bytes, over the limit of 4096 bytes for all values of a step together; write large results to an artifact'],
    ['values over the limit together', { url: 'u'.repeat(2100), report: JSON.stringify('r'.repeat(2100)) },
      'the values take 4254 bytes together as JSON, over the limit of 4096 bytes for all values of a step; write large results to an artifact'],
  ])('fails the step at once (exit 3) on %s, with the reason on the Job and as the last line of its log', async (_name, change, reason) => {
    const files: Record<string, string> = { ...good };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete files[k];
      else files[k] = v;
    }
    const r = await report(files);
    expect(r.code).toBe(3);
    expect(r.annotations['mlops.cdk8s.io/failure-reason']).toBe(reason);
    expect(r.stderr).toBe(`report-values: ${reason}\n`);
    expect(r.annotations['mlops.cdk8s.io/values']).toBeUndefined();
  });

  test('refuses a symbolic link, which could point at the reporter\'s own token', async () => {
    const r = await report({ ...good, url: { link: '/var/run/secrets/kubernetes.io/serviceaccount/token' } });
    expect(r.code).toBe(3);
    expect(r.annotations['mlops.cdk8s.io/failure-reason']).toBe('value \'url\': $MLOPS_VALUES/url is a symbolic link; write the value itself into the file');
    expect(r.annotations['mlops.cdk8s.io/values']).toBeUndefined();
  });
});
