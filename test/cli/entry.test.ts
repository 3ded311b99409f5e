import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';

/*
 * The executable as users run it (`npx cdk8s-mlops ...`): bin/cdk8s-mlops.js over the built
 * lib/ (`npm test` builds first).
 */
const root = join(__dirname, '..', '..');
const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, [join(root, 'bin', 'cdk8s-mlops.js'), ...args], { cwd: root, input, encoding: 'utf8' });

test('--version prints the package version', () => {
  const r = cli(['--version']);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
});

test('verify - checks the YAML piped to it', () => {
  const r = cli(['verify', '-', '--no-simulate'], readFileSync(join(root, 'dist', 'churn.k8s.yaml'), 'utf8'));
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('pipeline churn (namespace ml-churn)');
  expect(r.stdout).toMatch(/0 errors, 0 warnings in \d+ objects from 1 file/);
  expect(r.status).toBe(0);
});

test('verify - reports a broken document from stdin and exits 1', () => {
  const r = cli(['verify', '-', '--no-simulate'], 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {bogus: 1, template: {spec: {containers: []}}}\n');
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('error: Job/default/x: unknown field "bogus" at /spec; remove it');
  expect(r.stdout).toContain('in <stdin>#1');
});
