import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart } from 'cdk8s';
// Types from the CLI's own declaration file; the runtime class comes through the package's public export.
import type { Validation, ValidationContext as CliValidationContext } from 'cdk8s-cli/lib/plugins/validation';
import { parseAllDocuments, stringify } from 'yaml';
import { MlopsValidation, ValidationContextLike, ValidationViolationLike } from '../../src/verify';
import { find, Obj, validSet } from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ValidationContext } = require('cdk8s-cli/plugins') as { ValidationContext: typeof CliValidationContext };

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-plugin-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A context shaped like cdk8s-cli's: manifests on disk, parseManifest, a report that records. */
function fakeContext(manifests: string[], metadata: Record<string, { path: string }> = {}) {
  const violations: ValidationViolationLike[] = [];
  let submitted: { status: string; metadata?: Record<string, string> } | undefined;
  const context: ValidationContextLike = {
    manifests,
    pkg: './node_modules/cdk8s-mlops/lib/verify/cdk8s-plugin.js',
    version: '0.0.0',
    metadata,
    logger: { log: () => undefined },
    report: {
      addViolation: (v) => { violations.push(v); },
      submit: (status, md) => { submitted = { status, metadata: md as Record<string, string> | undefined }; },
    },
    parseManifest: (p) => parseAllDocuments(fs.readFileSync(p, 'utf8')).map((d) => d.toJS()),
  };
  return { context, violations, submitted: () => submitted };
}

function write(objects: Obj[]): string {
  const file = path.join(dir, 'pipeline.k8s.yaml');
  fs.writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
  return file;
}

describe('MlopsValidation (cdk8s-cli plugin)', () => {
  test('implements the cdk8s-cli Validation contract', () => {
    const plugin: Validation = new MlopsValidation({});
    expect(typeof plugin.validate).toBe('function');
  });

  test('a clean app: success, no violations', async () => {
    const { context, violations, submitted } = fakeContext([write(validSet())]);
    await new MlopsValidation().validate(context);
    expect(violations).toEqual([]);
    expect(submitted()).toEqual({ status: 'success', metadata: { errors: '0', warnings: '0', pipelines: '1' } });
  });

  test('each problem becomes a violation carrying the construct path when known', async () => {
    const set = validSet();
    find(set, 'Job', 'churn-train-0a1b2c3d').spec.template.spec.containers[0].resources.limits.cpu = '1x';
    const file = write(set);
    const { context, violations, submitted } = fakeContext([file], { 'churn-train-0a1b2c3d': { path: 'churn/train/Resource' } });
    await new MlopsValidation().validate(context);
    expect(violations).toEqual([{
      ruleName: 'error: schema/quantity',
      recommendation: '[churn/train/Resource] Job/ml/churn-train-0a1b2c3d: invalid quantity "1x" at /spec/template/spec/containers/0/resources/limits/cpu; write a number with an optional suffix: m (milli), k/M/G/T, Ki/Mi/Gi/Ti, e.g. 500m, 2, 1.5, 512Mi',
      fix: 'write a number with an optional suffix: m (milli), k/M/G/T, Ki/Mi/Gi/Ti, e.g. 500m, 2, 1.5, 512Mi',
      violatingResources: [{ resourceName: 'churn-train-0a1b2c3d', locations: ['/spec/template/spec/containers/0/resources/limits/cpu'], manifestPath: file }],
    }]);
    expect(submitted()?.status).toBe('failure');
  });

  test('properties from cdk8s.yaml: external refs and failOnWarnings', async () => {
    const set = validSet();
    const dep = find(set, 'Deployment', 'churn-serve');
    delete dep.metadata.annotations;
    dep.spec.replicas = 2;
    const file = write(set);
    const run = async (props: ConstructorParameters<typeof MlopsValidation>[0]) => {
      const f = fakeContext([file]);
      await new MlopsValidation(props).validate(f.context);
      return f;
    };
    expect((await run({})).submitted()?.status).toBe('failure');
    const lenient = await run({ external: { secrets: ['ml-credentials'] } });
    expect(lenient.violations.map((v) => v.ruleName)).toEqual(['warning: hpa/replicas']);
    expect(lenient.submitted()?.status).toBe('success');
    expect((await run({ external: { secrets: ['ml-credentials'] }, failOnWarnings: true })).submitted()?.status).toBe('failure');
  });

  test('end to end with cdk8s: construct-metadata.json and the real ValidationContext', async () => {
    const outdir = path.join(dir, 'dist');
    const app = new App({ outdir, recordConstructMetadata: true });
    const chart = new Chart(app, 'pipeline', { namespace: 'ml' });
    new ApiObject(chart, 'train', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train-job' },
      spec: { bogus: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'python:3.12' }] } } },
    });
    app.synth();
    const meta = JSON.parse(fs.readFileSync(path.join(outdir, 'construct-metadata.json'), 'utf8'));
    expect(meta.resources['train-job'].path).toBe('pipeline/train');
    const manifests = fs.readdirSync(outdir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(outdir, f));
    // What ValidationPlugin.load does: metadata reduced to {name: {path}}.
    const metadata = Object.fromEntries(Object.entries(meta.resources as Record<string, { path: string }>).map(([k, v]) => [k, { path: v.path }]));
    const context = new ValidationContext(manifests, 'cdk8s-mlops', '0.0.0', metadata, false);
    await new MlopsValidation().validate(context);
    const report = context.report.toJson();
    expect(report.summary.status).toBe('failure');
    expect(report.violations).toHaveLength(1);
    expect(report.violations[0].ruleName).toBe('error: schema/unknown-field');
    expect(report.violations[0].violatingConstructs[0]).toMatchObject({
      constructPath: 'pipeline/train',
      resourceName: 'train-job',
      locations: ['/spec/bogus'],
    });
    expect(context.report.toString()).toContain('Construct Path: pipeline/train');
  });
});
