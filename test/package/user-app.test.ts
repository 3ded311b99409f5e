import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';

/*
 * Uses the library the way a user does: `npm pack`, install the tarball and its peers into
 * a fresh cdk8s TypeScript app, compile the app against the published `.d.ts`, and run
 * `cdk8s synth`. This is what catches a missing export, a wrong `types` path, a file left
 * out of the package or a peer-dependency mistake.
 */
const root = join(__dirname, '..', '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const versionOf = (pkg: string) => JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });

const MAIN_TS = `
import { App } from 'cdk8s';
import { EnvValue, Secret } from 'cdk8s-plus-27';
import { ContainerStep, Dataset, Model, Pipeline } from 'cdk8s-mlops';

const app = new App();
const pipeline = new Pipeline(app, 'demo', { namespace: 'team-a', defaults: { image: 'python:3.12-slim' } });
const creds = Secret.fromSecretName(pipeline, 'Creds', 'warehouse');
const extract = new ContainerStep(pipeline, 'extract', {
  command: ['python', '-c', 'print(1)'],
  env: { TOKEN: EnvValue.fromSecretValue({ secret: creds, key: 'token' }) },
  outputs: { rows: Dataset },
});
new ContainerStep(pipeline, 'fit', { inputs: { rows: extract.outputs.rows }, outputs: { model: Model } });
app.synth();
`;

describe('the packed library in a fresh cdk8s app', () => {
  const work = mkdtempSync(join(tmpdir(), 'mlops-user-'));
  const appDir = join(work, 'app');

  /** Another app beside the installed one, sharing its node_modules, with `main` compiled. */
  const compiledSibling = (name: string, main: string): string => {
    const dir = join(work, name);
    mkdirSync(dir);
    for (const f of ['package.json', 'tsconfig.json', 'cdk8s.yaml']) writeFileSync(join(dir, f), readFileSync(join(appDir, f)));
    writeFileSync(join(dir, 'main.ts'), main);
    symlinkSync(join(appDir, 'node_modules'), join(dir, 'node_modules'));
    run(bin('tsc'), ['-p', '.'], dir);
    return dir;
  };

  beforeAll(() => {
    const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop()!;
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'demo-app', private: true, version: '0.0.0' }));
    writeFileSync(join(appDir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: false, outDir: 'build', types: [] },
      include: ['main.ts'],
    }));
    writeFileSync(join(appDir, 'cdk8s.yaml'), 'language: typescript\napp: node build/main.js\n');
    writeFileSync(join(appDir, 'main.ts'), MAIN_TS);
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=optional',
      join(work, tarball), `cdk8s@${versionOf('cdk8s')}`, `cdk8s-plus-27@${versionOf('cdk8s-plus-27')}`, `constructs@${versionOf('constructs')}`,
      `@types/node@${versionOf('@types/node')}`], appDir);
  }, 240_000);

  test('ships only the compiled library, its types and the coordinator script', () => {
    const files = run('tar', ['-tzf', readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => join(work, f))[0]], work).split('\n');
    expect(files).toContain('package/lib/index.js');
    expect(files).toContain('package/lib/index.d.ts');
    expect(files).toContain('package/assets/coordinate.sh');
    expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  test('peers are not bundled: the app has one copy of constructs and cdk8s', () => {
    const inner = readdirSync(join(appDir, 'node_modules', 'cdk8s-mlops'));
    expect(inner).not.toContain('node_modules');
  });

  test('compiles against the published types (strict, with library checks) and synthesizes with the cdk8s CLI', () => {
    run(bin('tsc'), ['-p', '.'], appDir);
    const out = run(bin('cdk8s'), ['synth', '--no-check-upgrade'], appDir);
    expect(out).toContain('dist/demo.k8s.yaml');
    const objects = parseAllDocuments(readFileSync(join(appDir, 'dist', 'demo.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const jobs = objects.filter((o) => o.kind === 'Job');
    expect(jobs.map((j) => j.metadata.name)).toEqual([
      expect.stringMatching(/^demo-extract-[0-9a-f]{8}$/),
      expect.stringMatching(/^demo-fit-[0-9a-f]{8}$/),
      expect.stringMatching(/^demo-coordinator-[0-9a-f]{8}$/),
    ]);
    expect(jobs[1].metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('extract');
    const script = objects.find((o) => o.kind === 'ConfigMap').data['coordinate.sh'];
    expect(script).toBe(readFileSync(join(root, 'assets', 'coordinate.sh'), 'utf8'));
    expect(jobs[0].spec.template.spec.containers[0].env).toContainEqual({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'warehouse', key: 'token' } } });
  }, 120_000);

  test('a mistake fails `cdk8s synth` with the construct path, and leaves dist/ empty', () => {
    const bad = MAIN_TS.replace('app.synth();', "extract.after(pipeline.node.findChild('fit') as ContainerStep);\napp.synth();");
    const dir = compiledSibling('bad-app', bad);
    let failure: { status: number; stderr: string } | undefined;
    try {
      run(bin('cdk8s'), ['synth', '--no-check-upgrade'], dir);
    } catch (e) {
      failure = e as { status: number; stderr: string };
    }
    expect(failure?.status).not.toBe(0);
    expect(failure?.stderr).toContain('[demo/extract] dependency cycle detected: extract => fit => extract');
    expect(existsSync(join(dir, 'dist')) ? readdirSync(join(dir, 'dist')) : []).toEqual([]);
  }, 60_000);

  test('the README\'s first example compiles and synthesizes as written', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)![1];
    const dir = compiledSibling('readme-app', example);
    run('node', ['build/main.js'], dir);
    const objects = parseAllDocuments(readFileSync(join(dir, 'dist', 'churn.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const steps = objects.filter((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step']);
    expect(steps.map((j) => j.metadata.labels['mlops.cdk8s.io/step'])).toEqual(['ingest', 'train']);
    expect(steps[1].spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
  }, 60_000);

  test('the package\'s verify command checks and dry-runs the app\'s YAML', () => {
    const out = run(join(appDir, 'node_modules', '.bin', 'cdk8s-mlops'), ['verify', 'dist', '--external', 'secret/warehouse'], appDir);
    expect(out).toContain('pipeline demo (namespace team-a): 2 steps');
    expect(out).toContain('dry run of demo: all 2 steps completed');
    expect(out).toContain('0 errors, 0 warnings in 8 objects from 1 file');
  }, 60_000);
});
