import { execFileSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart } from 'cdk8s';
import { ContainerStep, Pipeline } from '../../src';

/*
 * dist/ after a synth holds exactly the current pipelines, however synth was run: the cdk8s
 * CLI empties the folder first, a bare `app.synth()` only overwrites, so the library deletes
 * the files it wrote for pipelines the app no longer has.
 */
const root = join(__dirname, '..', '..');

/** An app with the named pipelines (one step each) writing to `outdir`. */
function appWith(outdir: string, names: string[], extra?: (app: App) => void): App {
  const app = new App({ outdir });
  for (const name of names) new ContainerStep(new Pipeline(app, name), 'a', { image: 'busybox:1.36' });
  extra?.(app);
  return app;
}

describe('files of pipelines that no longer exist', () => {
  test('a bare app.synth() removes them, and leaves every file it did not write', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'mlops-stale-'));
    appWith(outdir, ['churn', 'sweep'], (app) => new Chart(app, 'web')).synth();
    writeFileSync(join(outdir, 'notes.txt'), 'kept');
    writeFileSync(join(outdir, 'hand-written.k8s.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: {mlops.cdk8s.io/pipeline: sweep}}\n');
    expect(readdirSync(outdir).sort()).toEqual(['churn.k8s.yaml', 'hand-written.k8s.yaml', 'notes.txt', 'sweep.k8s.yaml', 'web.k8s.yaml']);

    appWith(outdir, ['churn'], (app) => new Chart(app, 'web')).synth();
    expect(readdirSync(outdir).sort()).toEqual(['churn.k8s.yaml', 'hand-written.k8s.yaml', 'notes.txt', 'web.k8s.yaml']);
  });

  test('a failed app.synth() writes nothing: files of removed pipelines are gone, the others keep their previous content', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'mlops-stale-'));
    appWith(outdir, ['churn', 'sweep']).synth();
    const before = readFileSync(join(outdir, 'churn.k8s.yaml'), 'utf8');
    const broken = appWith(outdir, ['churn']);
    new ContainerStep(broken.node.findChild('churn') as Pipeline, 'b'); // no image: a synth error
    expect(() => broken.synth()).toThrow("Validation failed with the following errors:\n  [churn/b] no container image: set 'image' on the step or 'defaults.image' on the pipeline");
    expect(readdirSync(outdir)).toEqual(['churn.k8s.yaml']);
    expect(readFileSync(join(outdir, 'churn.k8s.yaml'), 'utf8')).toBe(before);
  });

  test('with the cdk8s CLI, dist/ holds the current pipelines only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-stale-cli-'));
    writeFileSync(join(dir, 'cdk8s.yaml'), 'language: typescript\napp: node main.js\n');
    writeFileSync(join(dir, 'main.js'), `
const { App } = require(${JSON.stringify(join(root, 'node_modules', 'cdk8s'))});
const { ContainerStep, Pipeline } = require(${JSON.stringify(join(root, 'lib'))});
const app = new App();
for (const name of process.env.PIPELINES.split(',')) new ContainerStep(new Pipeline(app, name), 'a', { image: 'busybox:1.36' });
app.synth();
`);
    const synth = (pipelines: string) => execFileSync(join(root, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade'],
      { cwd: dir, env: { ...process.env, PIPELINES: pipelines, CDK8S_CHECK_UPGRADE: 'false' }, stdio: 'pipe' });
    synth('churn,sweep');
    expect(readdirSync(join(dir, 'dist')).sort()).toEqual(['churn.k8s.yaml', 'sweep.k8s.yaml']);
    synth('churn');
    expect(readdirSync(join(dir, 'dist'))).toEqual(['churn.k8s.yaml']);
  }, 60_000);
});
