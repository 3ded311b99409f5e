import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import { installFootprint, pack } from '../../bench/footprint';
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
const readme = () => readFileSync(join(root, 'README.md'), 'utf8');
const readmeExample = () => /```ts\n([\s\S]*?)```/.exec(readme())![1];
/** The first fenced block of `lang` after `heading` in the README. */
const readmeBlock = (heading: string, lang: string) => {
  const after = readme().slice(readme().indexOf(heading));
  return new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(after)![1];
};

/**
 * The project's own `cdk8s synth` (its cdk8s-cli; by default its cdk8s.yaml's `npx ts-node
 * main.ts`), or of another compiled program of the project into another folder.
 */
const cdk8sSynth = (dir: string, program?: string, output?: string) =>
  run('npx', ['cdk8s', 'synth', ...program ? ['--app', `node ${program}`, '--output', output!] : []], dir);

/** The README's cdk8s.yaml lines for the validation plugin. */
const PLUGIN_YAML = /# cdk8s\.yaml\n(validations:\n[\s\S]*?)```/.exec(readFileSync(join(root, 'README.md'), 'utf8'))![1];

/** A program using the public `cdk8s-mlops/verify` and `cdk8s-mlops/plugin` entries. */
const ENTRIES_TS = `
import { readFileSync } from 'fs';
import { parseManifestText, verifyObjects } from 'cdk8s-mlops/verify';
import { MlopsValidation } from 'cdk8s-mlops/plugin';

const objects = parseManifestText(readFileSync('dist/churn.k8s.yaml', 'utf8'), 'dist/churn.k8s.yaml').objects;
const result = verifyObjects(objects);
console.log(\`errors: \${result.problems.filter((p) => p.severity === 'error').length}, pipelines: \${result.plans.map((p) => p.pipeline).join(',')}\`);
console.log(\`plugin: \${typeof MlopsValidation}\`);
`;

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
  tarball = pack(root, work);
}, 120_000);

test('the package ships only the compiled library, its types and the coordinator script', () => {
  const files = run('tar', ['-tzf', tarball], work).split('\n');
  expect(files).toContain('package/lib/index.js');
  expect(files).toContain('package/lib/index.d.ts');
  expect(files).toContain('package/assets/coordinate.sh');
  expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files).toContain('package/assets/k8s-1.27-schemas.json.gz');
  expect(files).toContain('package/lib/verify/ajv.LICENSES.txt');
});

test('the published package.json: built before packing (no prepare), links home, public entry points, no cdk8s-plus', () => {
  const pkg = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], work));
  expect(pkg.scripts.prepare).toBeUndefined();
  expect(pkg.scripts.prepack).toBe('npm run build');
  expect(pkg.repository.url).toBe('git+https://github.com/cdk8s-mlops/cdk8s-mlops.git');
  expect(pkg.homepage).toBe('https://github.com/cdk8s-mlops/cdk8s-mlops#readme');
  expect(pkg.bugs.url).toBe('https://github.com/cdk8s-mlops/cdk8s-mlops/issues');
  expect(Object.keys(pkg.exports)).toEqual(['.', './verify', './plugin', './package.json']);
  expect(Object.keys(pkg.dependencies)).toEqual(['yaml']);
  expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['cdk8s', 'constructs']);
});

test('installing the library beside its peers adds at most 3 MiB (the package and its dependencies)', () => {
  const footprint = installFootprint(root, tarball, work);
  process.stdout.write(`install footprint of cdk8s-mlops: ${footprint} bytes\n`);
  expect(footprint).toBeLessThanOrEqual(3 * 1024 * 1024);
}, 120_000);

test('every link in the README works from the npm page: absolute URLs only', () => {
  const links = [...readme().matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
  expect(links.length).toBeGreaterThan(5);
  expect(links.filter((l) => !/^https:\/\//.test(l))).toEqual([]);
});

describe.each<PlusPackage>(['cdk8s-plus-33', 'cdk8s-plus-27'])('in a `cdk8s init typescript-app` project with %s', (plus) => {
  let app = '';

  beforeAll(() => {
    app = initApp(work, `app-${plus}`, plus, readmeExample());
    writeFileSync(join(app, 'values.ts'), plusMain(plus));
    writeFileSync(join(app, 'cycle.ts'), plusMain(plus).replace('app.synth();', "extract.after(pipeline.node.findChild('fit') as ContainerStep);\napp.synth();"));
    writeFileSync(join(app, 'entries.ts'), ENTRIES_TS);
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

  test('the library brings no kubernetes-models and nests no copies of its own', () => {
    expect(existsSync(join(app, 'node_modules', 'kubernetes-models'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'cdk8s-mlops', 'node_modules'))).toBe(false);
  });

  test('importing the library loads none of verify\'s machinery (ajv, schemas); the verify and plugin entries work', () => {
    const loaded = (entry: string) => JSON.parse(run('node', ['-e',
      `require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(require.cache).filter((k) => /ajv|[\\/]verify[\\/](verify|schema)/.test(k))))`], app));
    expect(loaded('cdk8s-mlops')).toEqual([]);
    // entries.ts compiled with the rest of the project (npm run compile); it uses both entries.
    expect(run('node', ['entries.js'], app)).toBe('errors: 0, pipelines: churn\nplugin: function\n');
  });

  test('the validation plugin runs inside `cdk8s synth` with the short form `package: ./node_modules/cdk8s-mlops`', () => {
    const config = readFileSync(join(app, 'cdk8s.yaml'), 'utf8');
    writeFileSync(join(app, 'cdk8s.yaml'), `${config.trimEnd()}\n${PLUGIN_YAML}`);
    try {
      const out = cdk8sSynth(app, 'values.js', 'dist-plugin');
      expect(out).toContain('dist-plugin/demo.k8s.yaml');
      expect(out).toMatch(/Plugin\s*│ \S*node_modules\/cdk8s-mlops /);
      expect(out).toMatch(/Status\s*│ success /);
      expect(out).toMatch(/pipelines\s*│ 1 /);
    } finally {
      writeFileSync(join(app, 'cdk8s.yaml'), config);
    }
  }, 120_000);

  test('the package\'s verify command checks and dry-runs the project\'s YAML', () => {
    const out = run('npx', ['cdk8s-mlops', 'verify', 'dist'], app);
    expect(out).toContain('pipeline churn (namespace ml): 2 steps');
    expect(out).toContain('dry run of churn: all 2 steps completed');
    expect(out).toMatch(/0 errors, 0 warnings in \d+ objects from 1 file/);
  }, 60_000);
});

describe('the README recipes, in the plus-33 project', () => {
  const app = join(work, 'app-cdk8s-plus-33');

  test('a published package of pipeline pieces (the README\'s Tuning), used twice in one pipeline, synthesizes without clashes', () => {
    const pkgDir = join(work, 'tuning-blocks');
    mkdirSync(pkgDir);
    writeFileSync(join(pkgDir, 'index.ts'), readmeBlock('### Publishing reusable pipeline pieces', 'ts'));
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({
      name: 'tuning-blocks', version: '1.0.0', main: 'index.js', types: 'index.d.ts', files: ['index.js', 'index.d.ts'],
      peerDependencies: { 'cdk8s': '^2.68.0', 'constructs': '^10.3.0', 'cdk8s-mlops': '>=0.1.0' },
    }));
    // Compiled against the app's installed peers, with the init template's strictness.
    symlinkSync(join(app, 'node_modules'), join(pkgDir, 'node_modules'));
    run(join(app, 'node_modules', '.bin', 'tsc'), ['--declaration', '--strict', '--noUnusedLocals', '--noUnusedParameters',
      '--module', 'commonjs', '--target', 'ES2017', '--lib', 'es2016', 'index.ts'], pkgDir);
    rmSync(join(pkgDir, 'node_modules'));
    const blocksTarball = pack(pkgDir, work);
    const dir = initApp(work, 'blocks-app', 'cdk8s-plus-33', `
import { App } from 'cdk8s';
import { Pipeline } from 'cdk8s-mlops';
import { Tuning } from 'tuning-blocks';

const app = new App();
const pipeline = new Pipeline(app, 'tune', { namespace: 'ml' });
const small = new Tuning(pipeline, 'small', { image: 'ghcr.io/acme/tune:1' });
new Tuning(pipeline, 'large', { image: 'ghcr.io/acme/tune:1' }).fit.after(small.fit);
app.synth();
`);
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, blocksTarball], dir);
    expect(existsSync(join(dir, 'node_modules', 'tuning-blocks', 'node_modules'))).toBe(false);
    cdk8sSynth(dir);
    const jobs = stepJobs(readObjects(join(dir, 'dist', 'tune.k8s.yaml')));
    expect(jobs.map((j) => j.metadata.labels['mlops.cdk8s.io/step'])).toEqual(['small-fit', 'large-fit']);
    expect(new Set(jobs.map((j) => j.metadata.name)).size).toBe(2);
    expect(jobs[1].metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('small-fit');
    const outputs = jobs.map((j) => j.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'MLOPS_OUTPUT_MODEL').value);
    expect(outputs[0]).not.toBe(outputs[1]);
  }, 240_000);

  test('the README\'s CI steps, run exactly as written, synthesize and verify', () => {
    const steps = readmeBlock('## Use it in CI', 'sh').trim().split('\n');
    expect(steps).toEqual(['npm ci', 'npx cdk8s synth --no-check-upgrade', 'npx cdk8s-mlops verify dist/']);
    rmSync(join(app, 'dist'), { recursive: true, force: true });
    const outputs = steps.map((line) => run('bash', ['-c', line], app));
    expect(outputs[1]).toContain('dist/churn.k8s.yaml');
    expect(outputs[2]).toContain('dry run of churn: all 2 steps completed');
    expect(outputs[2]).toMatch(/0 errors, 0 warnings in \d+ objects from 1 file/);
  }, 300_000);
});
