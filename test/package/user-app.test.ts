import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import { initApp, PlusPackage, run } from './init-app';

/*
 * Uses the library the way a user does: `npm pack`, then `npm install` the tarball into a
 * project shaped exactly like `cdk8s init typescript-app` (its package.json, tsconfig with
 * noUnusedLocals and no skipLibCheck, cdk8s.yaml running `npx ts-node main.ts`), once with
 * cdk8s-plus-33 (what `cdk8s init` installs today) and once with cdk8s-plus-27, and run
 * the project's own `cdk8s synth`. This catches a missing export, a wrong `types` path, a
 * file left out of the package, a peer-dependency mistake, and a value type bound to one
 * cdk8s-plus version.
 */
const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'mlops-user-'));
let tarball = '';

type K8sObject = Record<string, any>;
const readObjects = (file: string): K8sObject[] => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
const stepJobs = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step']);
const readmeExample = () => /```ts\n([\s\S]*?)```/.exec(readFileSync(join(root, 'README.md'), 'utf8'))![1];

/**
 * The project's own `cdk8s synth` (its cdk8s-cli; by default its cdk8s.yaml's `npx ts-node
 * main.ts`), or of another compiled program of the project into another folder.
 */
const cdk8sSynth = (dir: string, program?: string, output?: string) =>
  run('npx', ['cdk8s', 'synth', ...program ? ['--app', `node ${program}`, '--output', output!] : []], dir);

/** A pipeline using the values of `plus`: its Cpu, EnvValue and Secret. */
const plusMain = (plus: PlusPackage) => `
import { App } from 'cdk8s';
import { Cpu, EnvValue, Secret } from '${plus}';
import { ContainerStep, Dataset, Model, Pipeline } from 'cdk8s-mlops';

const app = new App();
const pipeline = new Pipeline(app, 'demo', { namespace: 'team-a', defaults: { image: 'python:3.12-slim' } });
const creds = Secret.fromSecretName(pipeline, 'Creds', 'warehouse');
const extract = new ContainerStep(pipeline, 'extract', {
  command: ['python', '-c', 'print(1)'],
  env: { TOKEN: EnvValue.fromSecretValue({ secret: creds, key: 'token' }) },
  resources: { cpu: { request: Cpu.units(1) } },
  outputs: { rows: Dataset },
});
new ContainerStep(pipeline, 'fit', { inputs: { rows: extract.outputs.rows }, outputs: { model: Model } });
app.synth();
`;

beforeAll(() => {
  tarball = join(work, run('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop()!);
}, 120_000);

test('the package ships only the compiled library, its types and the coordinator script', () => {
  const files = run('tar', ['-tzf', tarball], work).split('\n');
  expect(files).toContain('package/lib/index.js');
  expect(files).toContain('package/lib/index.d.ts');
  expect(files).toContain('package/assets/coordinate.sh');
  expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
});

describe.each<PlusPackage>(['cdk8s-plus-33', 'cdk8s-plus-27'])('in a `cdk8s init typescript-app` project with %s', (plus) => {
  let app = '';

  beforeAll(() => {
    app = initApp(work, `app-${plus}`, plus, readmeExample());
    writeFileSync(join(app, 'values.ts'), plusMain(plus));
    writeFileSync(join(app, 'cycle.ts'), plusMain(plus).replace('app.synth();', "extract.after(pipeline.node.findChild('fit') as ContainerStep);\napp.synth();"));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    // The template's compile script: tsc over every .ts of the project, library types included.
    run('npm', ['run', 'compile'], app);
  }, 240_000);

  test('the README\'s first example compiles under the template\'s tsconfig and `cdk8s synth` writes its Jobs', () => {
    expect(cdk8sSynth(app)).toContain('dist/churn.k8s.yaml');
    const steps = stepJobs(readObjects(join(app, 'dist', 'churn.k8s.yaml')));
    expect(steps.map((j) => j.metadata.labels['mlops.cdk8s.io/step'])).toEqual(['ingest', 'train']);
    expect(steps[1].metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('ingest');
    expect(steps[1].spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
  }, 120_000);

  test(`${plus}'s Cpu, EnvValue and Secret reach the Jobs`, () => {
    expect(cdk8sSynth(app, 'values.js', 'dist-values')).toContain('dist-values/demo.k8s.yaml');
    const objects = readObjects(join(app, 'dist-values', 'demo.k8s.yaml'));
    const [extract, fit] = stepJobs(objects);
    const container = extract.spec.template.spec.containers[0];
    expect(container.resources.requests.cpu).toBe('1');
    expect(container.resources.limits.cpu).toBe('1');
    expect(container.env).toContainEqual({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'warehouse', key: 'token' } } });
    expect(fit.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('extract');
    expect(objects.find((o) => o.kind === 'ConfigMap')!.data['coordinate.sh']).toBe(readFileSync(join(root, 'assets', 'coordinate.sh'), 'utf8'));
  }, 120_000);

  test('a mistake fails `cdk8s synth` with the construct path, and leaves the output folder empty', () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      cdk8sSynth(app, 'cycle.js', 'dist-cycle');
    } catch (e) {
      failure = e as { status: number; stderr: string };
    }
    expect(failure?.status).not.toBe(0);
    expect(failure?.stderr).toContain('[demo/extract] dependency cycle detected: extract => fit => extract');
    expect(existsSync(join(app, 'dist-cycle')) ? readdirSync(join(app, 'dist-cycle')) : []).toEqual([]);
  }, 120_000);

  test('peers are not bundled: the project has one copy of cdk8s and constructs, and only its own cdk8s-plus', () => {
    expect(existsSync(join(app, 'node_modules', 'cdk8s-mlops', 'node_modules', 'cdk8s'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'cdk8s-mlops', 'node_modules', 'constructs'))).toBe(false);
    // The library needs no cdk8s-plus of its own: a plus-33 project gets no plus-27.
    expect(existsSync(join(app, 'node_modules', 'cdk8s-plus-27'))).toBe(plus === 'cdk8s-plus-27');
  });

  test('the package\'s verify command checks and dry-runs the project\'s YAML', () => {
    const out = run('npx', ['cdk8s-mlops', 'verify', 'dist'], app);
    expect(out).toContain('pipeline churn (namespace ml): 2 steps');
    expect(out).toContain('dry run of churn: all 2 steps completed');
    expect(out).toMatch(/0 errors, 0 warnings in \d+ objects from 1 file/);
  }, 60_000);
});
