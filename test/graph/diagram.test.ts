import { readFileSync } from 'fs';
import { App, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { churnPipeline } from '../../examples/churn/pipeline';
import { churnEndToEnd } from '../../examples/churn/serving';
import { sweepPipeline } from '../../examples/sweep/pipeline';
import { ContainerStep, Dataset, Pipeline, TriggerRule } from '../../src';
import { buildDiagram, diagramEdges, DiagramInput } from '../../src/model/diagram';
import { dotString, mermaidText, toDot, toMermaid } from '../../src/model/diagram-text';
import { diagramsOfManifests } from '../../src/report/manifest-diagrams';
import { runTool } from '../support/tools';

const distObjects = (file: string) => parseAllDocuments(readFileSync(`dist/${file}`, 'utf8')).map((d) => d.toJS());

const node = (name: string, upstreams: string[] = [], extra: Partial<DiagramInput['nodes'][number]> = {}) => ({
  name, kind: 'job', image: 'img:1', requests: {}, limits: {}, accelerators: {}, parallelism: 1, upstreams, trigger: 'all-succeeded', ...extra,
});
const input = (nodes: DiagramInput['nodes']): DiagramInput => ({ pipeline: 'p', namespace: 'ns', nodes, maxParallel: 0, warnings: [], serving: [] });

describe('Pipeline.toDiagram, toMermaid and toDot', () => {
  test('the churn pipeline: levels, critical path, resources and GPUs from the model alone', () => {
    const d = churnPipeline(new App()).pipeline.toDiagram();
    expect(d.levels.map((l) => [l.level, l.nodes, l.gpus])).toEqual([
      [0, ['ingest'], 0], [1, ['features', 'profile'], 0], [2, ['train'], 1], [3, ['evaluate'], 0], [4, ['evaluate-gate'], 0],
    ]);
    expect(d.criticalPath).toEqual(['ingest', 'features', 'train', 'evaluate', 'evaluate-gate']);
    const train = d.nodes.find((n) => n.name === 'train')!;
    expect(train).toMatchObject({
      image: 'ghcr.io/acme-ml/churn:1.4.2',
      requests: { cpu: '4', memory: '16Gi' },
      limits: { cpu: '8', memory: '16Gi' },
      accelerators: { 'nvidia.com/gpu': 1 },
      upstreams: ['features'],
    });
    expect(d.maxParallel).toBe(0);
  });

  test('the Mermaid flowchart: one node per step, every edge, the critical path styled', () => {
    const text = churnPipeline(new App()).pipeline.toMermaid();
    expect(text.startsWith('flowchart LR\n')).toBe(true);
    expect(text).toContain('  n3["train<br/>ghcr.io/acme-ml/churn:1.4.2<br/>cpu 4/8, memory 16Gi<br/>1 nvidia.com/gpu"]\n');
    const edges = [...text.matchAll(/^ {2}(n\d+) --> (n\d+)$/gm)].map((m) => `${m[1]}>${m[2]}`);
    expect(edges).toEqual(['n0>n1', 'n0>n2', 'n1>n3', 'n1>n4', 'n3>n4', 'n4>n5']);
    // The gate is a node of its own kind.
    expect(text).toContain('  n5{{"evaluate-gate (gate)"}}\n');
    expect(text).toContain('  class n0,n1,n3,n4,n5 critical\n');
    // Edges 0 (ingest>features), 2 (features>train), 4 (train>evaluate) and 5 (evaluate>evaluate-gate).
    expect(text).toContain('  linkStyle 0,2,4,5 stroke:#c2410c,stroke-width:3px\n');
  });

  test('the DOT digraph is drawn by Graphviz itself, with every step and edge', () => {
    const dot = churnPipeline(new App()).pipeline.toDot();
    const { status, output } = runTool('bash', ['-c', `printf '%s' "$0" | dot -Tsvg`, dot], 'apt-get install graphviz');
    expect(output).not.toContain('Error');
    expect(status).toBe(0);
    const titles = [...output.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1].replace(/&#45;/g, '-').replace(/&gt;/g, '>'));
    expect(titles).toEqual(expect.arrayContaining(['ingest', 'features', 'profile', 'train', 'evaluate', 'evaluate-gate',
      'ingest->features', 'ingest->profile', 'features->train', 'features->evaluate', 'train->evaluate', 'evaluate->evaluate-gate']));
  });

  test.each([
    ['churn', (app: App) => churnEndToEnd(app).pipeline, 'churn.k8s.yaml'],
    ['sweep', sweepPipeline, 'sweep.k8s.yaml'],
  ])('the %s example draws the same from its model and from its synthesized YAML', (_name, build, file) => {
    const fromModel = build(new App());
    const { diagrams, failures } = diagramsOfManifests(distObjects(file));
    expect(failures).toEqual([]);
    expect(diagrams).toHaveLength(1);
    const fromYaml = diagrams[0].diagram;
    expect(fromYaml.nodes).toEqual(fromModel.toDiagram().nodes);
    expect(toMermaid(fromYaml)).toBe(fromModel.toMermaid());
    expect(toDot(fromYaml)).toBe(fromModel.toDot());
  });

  test('trigger rules and exit handlers draw the same from the model and from the YAML', () => {
    const pipeline = new Pipeline(Testing.app(), 'flow', { namespace: 'ml' });
    const train = new ContainerStep(pipeline, 'train', { image: 'img:1', outputs: { data: Dataset } });
    const report = new ContainerStep(pipeline, 'report', { image: 'img:1', inputs: { data: train.outputs.data }, trigger: TriggerRule.ALL_DONE });
    const notify = new ContainerStep(pipeline, 'notify', { image: 'img:1' });
    pipeline.onExit(notify);
    const fromModel = pipeline.toDiagram();
    expect(fromModel.nodes.map((n) => [n.name, n.trigger, n.level])).toEqual([['train', 'all-succeeded', 0], ['report', 'all-done', 1], ['notify', 'exit', 2]]);
    expect(diagramEdges(fromModel).map((e) => `${e.from}>${e.to}:${e.label}`)).toEqual(['train>report:all-done', 'report>notify:exit']);
    const { diagrams } = diagramsOfManifests(Testing.synth(pipeline));
    expect(toMermaid(diagrams[0].diagram)).toBe(pipeline.toMermaid());
    expect(report.triggerRule).toBe('all-done');
  });

  test('the sweep example: the twelve GPU trials on one level', () => {
    const d = sweepPipeline(new App()).toDiagram();
    expect(d.maxParallel).toBe(0);
    expect(d.levels[1]).toEqual({ level: 1, nodes: Array.from({ length: 12 }, (_, i) => `tune-trial-${i}`).sort(), gpus: 12 });
    expect(toMermaid(d)).toContain('no cap on steps at once');
  });

  test('fails to draw a pipeline with a cycle, naming it', () => {
    const pipeline = new Pipeline(Testing.app(), 'loop');
    const a = new ContainerStep(pipeline, 'a', { image: 'img:1', outputs: { data: Dataset } });
    const b = new ContainerStep(pipeline, 'b', { image: 'img:1', inputs: { data: a.outputs.data } });
    a.after(b);
    expect(() => pipeline.toMermaid()).toThrow(
      "cannot draw pipeline 'loop': [loop/a] dependency cycle detected: a => b => a; remove one of these after() calls or inputs");
  });

  test('fails to draw a pipeline without steps', () => {
    const pipeline = new Pipeline(Testing.app(), 'empty');
    expect(() => pipeline.toDot()).toThrow(
      "cannot draw pipeline 'empty': [empty] pipeline has no steps; add one, e.g. new ContainerStep(pipeline, 'train', { image })");
  });
});

describe('buildDiagram', () => {
  test('ties on the critical path go to the smaller name', () => {
    const d = buildDiagram(input([node('z'), node('a'), node('b', ['a', 'z'])]));
    expect(d.criticalPath).toEqual(['a', 'b']);
    expect(d.nodes.map((n) => n.name)).toEqual(['a', 'z', 'b']);
  });

  test('an exit handler runs after every step nothing waits for, drawn last with exit edges', () => {
    const d = buildDiagram(input([node('a'), node('b', ['a']), node('c', ['a']), node('notify', [], { trigger: 'exit' })]));
    expect(d.levels.map((l) => l.nodes)).toEqual([['a'], ['b', 'c'], ['notify']]);
    expect(d.criticalPath).toEqual(['a', 'b', 'notify']);
    expect(diagramEdges(d).filter((e) => e.to === 'notify').map((e) => [e.from, e.label])).toEqual([['b', 'exit'], ['c', 'exit']]);
  });

  test('trigger rules and conditions label the edges; a gate gets its own shape', () => {
    const d = buildDiagram(input([
      node('train'),
      node('gate', ['train'], { kind: 'gate' }),
      node('deploy', ['gate'], { condition: 'train.auc >= 0.8' }),
      node('alert', ['gate'], { trigger: 'one-failed' }),
    ]));
    expect(diagramEdges(d).map((e) => `${e.from}>${e.to}:${e.label}`)).toEqual([
      'train>gate:', 'gate>alert:one-failed', 'gate>deploy:if train.auc >= 0.8',
    ]);
    const mermaid = toMermaid(d);
    expect(mermaid).toContain('  n1{{"gate (gate)<br/>img:1"}}\n');
    expect(mermaid).toContain('  n1 -->|"if train.auc #62;= 0.8"| n3\n');
    expect(toDot(d)).toContain('"gate" [label="gate (gate)\\nimg:1", shape=hexagon, fillcolor="#fef3c7"');
  });

  test('fails on a cycle, naming it', () => {
    expect(() => buildDiagram(input([node('a', ['b']), node('b', ['a'])]))).toThrow('dependency cycle a => b => a');
  });
});

describe('escaping names and values from untrusted YAML', () => {
  test('Mermaid: quotes, angle brackets, # and backticks become entities; line breaks spaces', () => {
    expect(mermaidText('a"]; click n0 call x()\n<b>#1`')).toBe('a#34;]; click n0 call x() #60;b#62;#35;1#96;');
  });

  test('DOT: a name cannot end its string', () => {
    expect(dotString('a" -> "b\\')).toBe('"a\\" -> \\"b\\\\"');
  });

  test('a hostile step name stays one node in both formats', () => {
    const hostile = 'x"];\nn9["owned';
    const d = buildDiagram(input([node(hostile), node('b', [hostile])]));
    const mermaid = toMermaid(d);
    expect(mermaid).toContain('  n0["x#34;]; n9[#34;owned<br/>img:1"]\n');
    expect(mermaid.split('\n').filter((l) => /^ {2}n\d+\[/.test(l))).toHaveLength(2);
    const { status, output } = runTool('bash', ['-c', `printf '%s' "$0" | dot -Tsvg`, toDot(d)], 'apt-get install graphviz');
    expect(status).toBe(0);
    expect(output.match(/class="node"/g)).toHaveLength(2);
  });
});
