import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main';
import { SimulationInput } from '../../src/cli/verify';
import { find, Obj, validSet } from './fixtures';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cli-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeSet(objects: Obj[], file = 'app.k8s.yaml'): string {
  fs.writeFileSync(path.join(dir, file), objects.map((o) => stringify(o)).join('---\n'));
  return path.join(dir, file);
}

async function run(argv: string[], simulate?: (i: SimulationInput) => Promise<{ problems: any[]; text?: string }>) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; }, simulate });
  return { code, stdout, stderr };
}

describe('cdk8s-mlops CLI', () => {
  test('a valid folder: exit 0, the plan and a summary', async () => {
    writeSet(validSet());
    const r = await run(['verify', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pipeline churn (namespace ml): 5 steps, coordinator churn-coordinator-9f8e7d6c\n');
    expect(r.stdout).toContain('  critical path (4 steps): ingest => features => train => evaluate\n');
    expect(r.stdout.endsWith('0 errors, 0 warnings in 16 objects from 1 file\n')).toBe(true);
  });

  test('errors: exit 1, every problem with its source', async () => {
    const set = validSet();
    find(set, 'Job', 'churn-train-0a1b2c3d').spec.template.spec.containers[0].resources.limits.cpu = '1x';
    find(set, 'Service', 'churn-serve').spec.selector = { app: 'nothing' };
    const file = writeSet(set);
    const r = await run(['verify', dir, '--no-plan']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('pipeline churn');
    const trainIndex = set.findIndex((o) => o.metadata.name === 'churn-train-0a1b2c3d') + 1;
    expect(r.stdout).toContain(
      'error: Job/ml/churn-train-0a1b2c3d: invalid quantity "1x" at /spec/template/spec/containers/0/resources/limits/cpu; '
      + 'write a number with an optional suffix: m (milli), k/M/G/T, Ki/Mi/Gi/Ti, e.g. 500m, 2, 1.5, 512Mi\n'
      + `    in ${file}#${trainIndex}\n`);
    expect(r.stdout).toContain('error: Service/ml/churn-serve: selector app=nothing at /spec/selector matches no pod template in namespace ml');
    expect(r.stdout.endsWith('2 errors, 0 warnings in 16 objects from 1 file\n')).toBe(true);
  });

  test('warnings pass unless --strict', async () => {
    const set = validSet();
    find(set, 'Deployment', 'churn-serve').spec.replicas = 3;
    writeSet(set);
    expect((await run(['verify', dir])).code).toBe(0);
    const strict = await run(['verify', dir, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('0 errors, 1 warning in 16 objects');
  });

  test('--external declares what exists in the cluster', async () => {
    const set = validSet();
    delete find(set, 'Deployment', 'churn-serve').metadata.annotations;
    writeSet(set);
    expect((await run(['verify', dir])).code).toBe(1);
    expect((await run(['verify', dir, '--external', 'secret/ml-credentials'])).code).toBe(0);
    expect((await run(['verify', dir, '--external=secret/ml/ml-credentials'])).code).toBe(0);
  });

  test('--json prints problems and plans', async () => {
    const set = validSet();
    find(set, 'Job', 'churn-train-0a1b2c3d').spec.bogus = true;
    writeSet(set);
    const r = await run(['verify', dir, '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.problems).toEqual([expect.objectContaining({ object: 'Job/ml/churn-train-0a1b2c3d', path: '/spec/bogus', rule: 'schema/unknown-field', severity: 'error' })]);
    expect(json.plans[0].criticalPath).toEqual(['ingest', 'features', 'train', 'evaluate']);
  });

  test('a YAML syntax error: exit 1 naming file and document', async () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: ConfigMap\n---\nmetadata: {name: [x\n');
    const r = await run(['verify', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^error: ${path.join(dir, 'bad.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: document 2: YAML syntax error: `));
    expect(r.stdout).toMatch(/\nerror: ConfigMap\/default\/<no name>: metadata.name is missing; set metadata.name\n.*\n2 errors, 0 warnings in 1 object from 1 file\n$/);
  });

  test('usage errors exit 2; --help exits 0', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['deploy'])).stderr).toContain('unknown command "deploy"');
    expect((await run(['verify'])).code).toBe(2);
    const bad = await run(['verify', dir, '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option --bogus');
    expect((await run(['verify', dir, '--external', 'volume/x'])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('verify <file-or-folder>...');
    expect((await run(['verify', '--help'])).stdout).toContain('--unknown-kinds <level>');
  });

  test('--timings reports schema load and verify times', async () => {
    writeSet(validSet());
    const r = await run(['verify', dir, '--timings', '--no-plan']);
    expect(r.stdout).toMatch(/timings: schema collect \d+ ms, prepare \d+ ms, compile \d+ ms \(\d+ kinds\); verify total \d+ ms for 16 objects\n$/);
  });

  describe('simulation hook', () => {
    test('gets the objects and plans; its problems count toward the exit code', async () => {
      writeSet(validSet());
      let seen: SimulationInput | undefined;
      const r = await run(['verify', dir, '--no-plan'], async (input) => {
        seen = input;
        return {
          problems: [{ object: 'Job/ml/x', path: '', message: 'Job/ml/x: simulated failure', severity: 'error', rule: 'simulation/test' }],
          text: 'simulation: 1 run',
        };
      });
      expect(seen?.objects).toHaveLength(16);
      expect(seen?.plans[0].pipeline).toBe('churn');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('error: Job/ml/x: simulated failure\nsimulation: 1 run\n1 error, 0 warnings in 16 objects from 1 file\n');
    });

    test('is skipped when the static checks already failed', async () => {
      const set = validSet();
      find(set, 'Job', 'churn-train-0a1b2c3d').spec.bogus = true;
      writeSet(set);
      const simulate = jest.fn();
      const r = await run(['verify', dir, '--no-plan'], simulate);
      expect(simulate).not.toHaveBeenCalled();
      expect(r.stdout).toContain('simulation skipped: fix the errors above first\n');
    });
  });

  test('bin/cdk8s-mlops.js is a thin node wrapper around lib/cli/main.js', () => {
    const bin = fs.readFileSync(path.join(__dirname, '../../bin/cdk8s-mlops.js'), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(bin).toContain("require('../lib/cli/main.js')");
    expect(fs.statSync(path.join(__dirname, '../../bin/cdk8s-mlops.js')).mode & 0o111).not.toBe(0);
  });
});
