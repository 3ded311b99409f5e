import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GRAPH_USAGE } from '../../src/cli/graph';
import { main, USAGE } from '../../src/cli/main';
import { Obj, stepJob } from '../verify/fixtures';
import { flowSet, hostileSet, yamlOf } from './fixtures';

let dir: string;
let out: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-cli-'));
  out = path.join(dir, 'out');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(file: string, content: Obj[] | string): string {
  const target = path.join(dir, 'in', file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, typeof content === 'string' ? content : yamlOf(content));
  return target;
}

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

const written = () => (fs.existsSync(out) ? fs.readdirSync(out).sort() : []);

describe('cdk8s-mlops graph', () => {
  test('writes Mermaid, DOT and HTML per pipeline, with gates, conditions, the exit handler and serving', async () => {
    write('app.k8s.yaml', flowSet());
    const r = await run(['graph', path.join(dir, 'in'), '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`pipeline churn (namespace ml): 7 steps -> ${out}/churn.mmd, ${out}/churn.dot, ${out}/churn.html\n`);
    expect(written()).toEqual(['churn.dot', 'churn.html', 'churn.mmd']);
    const mermaid = fs.readFileSync(path.join(out, 'churn.mmd'), 'utf8');
    expect(mermaid).toContain('{{"evaluate (gate)<br/>');
    expect(mermaid).toMatch(/ -->\|"if evaluate\.auc #62;= 0\.8"\| /);
    expect(mermaid).toMatch(/ -->\|"exit"\| /);
    const html = fs.readFileSync(path.join(out, 'churn.html'), 'utf8');
    expect(html).toContain('<g class="node kind-gate critical" data-step="evaluate" data-kind="gate"');
    expect(html).toContain('<g class="node kind-job exit critical" data-step="notify"');
    expect(html).toContain('<div class="card" data-kind="Deployment" data-name="churn-serve"><div class="card-kind">Deployment</div>'
      + '<div class="card-name">churn-serve</div><div class="card-detail">ghcr.io/example/churn-serve:1.0.0</div></div>');
    expect(html).toContain('<div class="card" data-kind="Service" data-name="churn-serve">');
    expect(html).toContain(`Drawn by <code>cdk8s-mlops graph</code> from <code>${path.join(dir, 'in', 'app.k8s.yaml')}</code>.`);
  });

  test('a scheduled pipeline is drawn from its run templates, with its CronJob', async () => {
    const r = await run(['graph', 'dist/churn-retrain.k8s.yaml', '-o', out, '--format', 'html']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`pipeline churn-retrain (namespace ml-churn): 7 steps -> ${out}/churn-retrain.html\n`);
    const html = fs.readFileSync(path.join(out, 'churn-retrain.html'), 'utf8');
    expect([...html.matchAll(/<g class="node [^"]*" data-step="([^"]+)"/g)].map((m) => m[1])).toEqual(['fetch', 'features', 'train', 'evaluate', 'evaluate-gate', 'promote', 'prune-runs']);
    expect(html).toContain('<div class="card" data-kind="CronJob" data-name="churn-retrain">');
    expect(html).toContain('<h2>Warnings</h2><p class="note">None.</p>');
  });

  test('the same input gives byte-identical files', async () => {
    write('app.k8s.yaml', flowSet());
    await run(['graph', path.join(dir, 'in'), '-o', out]);
    const first = written().map((f) => fs.readFileSync(path.join(out, f), 'utf8'));
    fs.rmSync(out, { recursive: true });
    await run(['graph', path.join(dir, 'in'), '-o', out]);
    expect(written().map((f) => fs.readFileSync(path.join(out, f), 'utf8'))).toEqual(first);
  });

  test('a file that cannot be parsed fails alone, with its name; the other pipelines are drawn', async () => {
    write('a-good.k8s.yaml', flowSet());
    write('b-bad.k8s.yaml', 'kind: Job\nmetadata: {name: [unclosed\n');
    const r = await run(['graph', path.join(dir, 'in'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${path.join(dir, 'in', 'b-bad.k8s.yaml')}:\\d+:\\d+: document 1: YAML syntax error: `));
    expect(written()).toEqual(['churn.dot', 'churn.html', 'churn.mmd']);
  });

  test('a pipeline with a cycle fails alone, naming the cycle', async () => {
    write('good.k8s.yaml', flowSet());
    const loop = [stepJob({ step: 'a', after: ['b'] }), stepJob({ step: 'b', after: ['a'] })];
    for (const job of loop) job.metadata.labels['mlops.cdk8s.io/pipeline'] = 'loop';
    write('loop.k8s.yaml', loop);
    const r = await run(['graph', path.join(dir, 'in'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: pipeline loop (namespace ml): cannot order the steps: dependency cycle a => b => a\n');
    expect(written()).toEqual(['churn.dot', 'churn.html', 'churn.mmd']);
  });

  test('a pipeline name from the YAML cannot write outside the output folder', async () => {
    write('hostile.k8s.yaml', hostileSet());
    const r = await run(['graph', path.join(dir, 'in'), '-o', out, '--format', 'html']);
    expect(r.code).toBe(0);
    expect(written()).toEqual([expect.stringMatching(/^_+title__script_document_title__owned-[0-9a-f]{8}\.html$/)]);
    expect(fs.readdirSync(dir).sort()).toEqual(['in', 'out']);
  });

  test('- reads standard input and -o - prints one format', () => {
    const yaml = yamlOf(flowSet());
    const r = spawnSync(process.execPath, ['bin/cdk8s-mlops.js', 'graph', '-', '--format', 'dot', '-o', '-'], { input: yaml, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('digraph "churn" {\n')).toBe(true);
    expect(r.stdout).toContain('  "deploy" -> "notify" [label="exit", color="#c2410c", penwidth=3];\n');
  });

  test('fails when no pipeline is found', async () => {
    write('other.yaml', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} }]);
    const r = await run(['graph', path.join(dir, 'in'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: no pipeline found in 1 file (no Job has the mlops.cdk8s.io/pipeline and mlops.cdk8s.io/step labels)\n');
    expect(written()).toEqual([]);
  });

  test.each([
    [['graph'], 'give at least one file or folder, or - for standard input'],
    [['graph', 'dist', '-o', '-'], '--out - prints one format: give exactly one --format'],
    [['graph', 'dist', '--format', 'svg'], '--format must be mermaid, dot or html, not "svg"'],
    [['graph', 'dist', '--bogus'], 'unknown option --bogus'],
  ])('bad invocation %j exits 2 with the usage', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`cdk8s-mlops graph: ${message}\n\n${GRAPH_USAGE}`);
    expect(r.stdout).toBe('');
  });

  test('--help documents the outputs and exit codes; the main help lists graph', async () => {
    const r = await run(['graph', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(GRAPH_USAGE);
    expect(GRAPH_USAGE).toContain('exit codes: 0 every pipeline drawn; 1 a file could not be read, a pipeline could not be\ndrawn or none was found');
    expect(USAGE).toContain('  graph <file-or-folder|->...  draw each pipeline as Mermaid, DOT and a self-contained\n');
  });
});
