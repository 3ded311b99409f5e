import { readFileSync } from 'fs';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import { recommendServing } from '../../examples/recommend/serving';
import { servingDiagram } from '../../src';
import { verifyObjects } from '../../src/verify';
import { findOne, K8sObject, synth } from '../support/synth';

const root = join(__dirname, '..', '..');
const objects = (): K8sObject[] => synth((app) => recommendServing(app)).objects;
const selects = (selector: Record<string, string>, pod: K8sObject) => Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v);

describe('example 2: an A/B test of a recommendation model', () => {
  test('versions 41 and 42 behind one Service, half the pods each, each version autoscaled; every object strict against 1.27', () => {
    const all = objects();
    expect(verifyObjects(all).problems).toEqual([]);
    expect(all.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Deployment/ranker', 'Deployment/ranker-b', 'Service/ranker', 'HorizontalPodAutoscaler/ranker', 'HorizontalPodAutoscaler/ranker-b',
      'PodDisruptionBudget/ranker', 'NetworkPolicy/ranker',
    ]);
    const service = findOne(all, 'Service');
    const deployments = all.filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.spec.template.metadata.labels['mlops.cdk8s.io/version'])).toEqual(['41', '42']);
    for (const d of deployments) {
      expect(selects(service.spec.selector, d.spec.template)).toBe(true);
      // Triton sees exactly its pinned version: loaded once, no polling.
      expect(d.spec.template.spec.containers[0].args).toContain('--model-control-mode=none');
      expect(d.spec.template.spec.containers[0].args).toContain('--metrics-port=8002');
    }
    expect(deployments.map((d) => d.spec.template.spec.initContainers[0].command[6])).toEqual(['41', '42']);
    expect(all.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((h) => [h.spec.minReplicas, h.spec.maxReplicas])).toEqual([[2, 6], [2, 6]]);
    expect(service.metadata.annotations['mlops.cdk8s.io/split']).toBe('a=41 50% (2-6 pods), b=42 50% (2-6 pods); this Service splits per pod, '
      + 'not per request, and the ratio drifts as the autoscalers scale each version on its own');
  });

  test('the README draws its serving topology exactly as generated from dist/recommend.k8s.yaml', () => {
    const dist = parseAllDocuments(readFileSync(join(root, 'dist', 'recommend.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Example: an A/B test of a recommendation model'));
    const block = /```mermaid\n([\s\S]*?)```/.exec(section);
    expect(block?.[1]).toBe(servingDiagram(dist));
    expect(block![1]).toContain('n0 -->|"50% of pods"| n1');
  });

  test('the diagram follows the objects: an HTTPRoute split draws the route, its weights and a Service per version', () => {
    const text = servingDiagram([
      { kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: 's-a', weight: 90 }, { name: 's-b', weight: 10 }] }] } },
      { kind: 'Service', metadata: { name: 's-a' }, spec: { selector: { v: 'a' }, ports: [{ name: 'http', port: 80 }] } },
      { kind: 'Service', metadata: { name: 's-b' }, spec: { selector: { v: 'b' }, ports: [{ name: 'http', port: 80 }] } },
      { kind: 'Deployment', metadata: { name: 'a' }, spec: { replicas: 9, template: { metadata: { labels: { v: 'a' } } } } },
      { kind: 'Deployment', metadata: { name: 'b' }, spec: { replicas: 1, template: { metadata: { labels: { v: 'b' } } } } },
      'not an object', null,
    ]);
    expect(text).toBe([
      'flowchart LR',
      '  n0(["Service s-a<br/>ClusterIP :80 http"])',
      '  n1(["Service s-b<br/>ClusterIP :80 http"])',
      '  n2{{"HTTPRoute r<br/>gateway public"}}',
      '  n3["Deployment a<br/>9 pods"]',
      '  n4["Deployment b<br/>1 pod"]',
      '  n2 -->|"weight 90"| n0',
      '  n2 -->|"weight 10"| n1',
      '  n0 --> n3',
      '  n1 --> n4',
      '',
    ].join('\n'));
  });
});
