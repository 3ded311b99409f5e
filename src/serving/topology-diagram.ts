import { mermaidText } from '../model/diagram-text';

/** A parsed Kubernetes object, read defensively: it may come from any YAML. */
type Obj = Record<string, any>;

const record = (v: unknown): Record<string, any> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, any> : {});
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const selects = (selector: Record<string, unknown>, labels: Record<string, unknown>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * A Mermaid flowchart of how requests reach model versions, drawn from synthesized objects
 * (for a serving app with no pipeline to draw): HTTPRoutes to their weighted Services,
 * Services to the Deployments whose pods they select (version, replicas or autoscaler
 * bounds), Deployments to the claims they mount, and disruption budgets to what they cover.
 */
export function servingDiagram(objects: readonly unknown[]): string {
  const all = objects.map(record);
  const of = (kind: string) => all.filter((o) => o.kind === kind && typeof record(o.metadata).name === 'string');
  const ids = new Map<Obj, string>();
  const lines = ['flowchart LR'];
  const node = (o: Obj, shape: (text: string) => string, text: string[]) => {
    const id = `n${ids.size}`;
    ids.set(o, id);
    lines.push(`  ${id}${shape(`"${text.map(mermaidText).join('<br/>')}"`)}`);
    return id;
  };
  const edges: string[] = [];
  const services = of('Service');
  for (const s of services) {
    const ports = list(s.spec?.ports).map((p) => `:${record(p).port} ${record(p).name ?? ''}`.trim()).join(', ');
    node(s, (t) => `([${t}])`, [`Service ${s.metadata.name}`, `${s.spec?.type ?? 'ClusterIP'} ${ports}`]);
  }
  for (const route of of('HTTPRoute')) {
    const id = node(route, (t) => `{{${t}}}`, [`HTTPRoute ${route.metadata.name}`, ...list(route.spec?.parentRefs).map((p) => `gateway ${record(p).name}`)]);
    for (const ref of list(route.spec?.rules).flatMap((rule) => list(record(rule).backendRefs)).map(record)) {
      const target = services.find((s) => s.metadata.name === ref.name);
      if (target) edges.push(`  ${id} -->|"${mermaidText(`weight ${ref.weight ?? 1}`)}"| ${ids.get(target)}`);
    }
  }
  const hpas = of('HorizontalPodAutoscaler');
  const deployments = of('Deployment');
  for (const d of deployments) {
    const labels = record(d.spec?.template?.metadata?.labels);
    const hpa = hpas.find((h) => record(h.spec?.scaleTargetRef).name === d.metadata.name);
    const replicas = d.spec?.replicas ?? 1;
    const pods = hpa ? `${hpa.spec.minReplicas ?? 1}-${hpa.spec.maxReplicas} pods (autoscaled)` : `${replicas} pod${replicas === 1 ? '' : 's'}`;
    const version = labels['mlops.cdk8s.io/version'];
    const track = labels['mlops.cdk8s.io/track'];
    node(d, (t) => `[${t}]`, [`Deployment ${d.metadata.name}`, ...(version ? [`version ${version}${track ? ` (${track})` : ''}`] : []), pods]);
  }
  for (const s of services) {
    // A split's Service says each version's share of its pods (model-server.ts, SPLIT_ANNOTATION).
    const shares = new Map([...String(record(s.metadata.annotations)['mlops.cdk8s.io/split'] ?? '').matchAll(/(\S+)=\S+ (\d+)%/g)].map((m) => [m[1], m[2]]));
    for (const d of deployments.filter((x) => selects(record(s.spec?.selector), record(x.spec?.template?.metadata?.labels)))) {
      const share = shares.get(record(d.spec?.template?.metadata?.labels)['mlops.cdk8s.io/track']);
      edges.push(share ? `  ${ids.get(s)} -->|"${share}% of pods"| ${ids.get(d)}` : `  ${ids.get(s)} --> ${ids.get(d)}`);
    }
  }
  const claims = new Map<string, Obj[]>();
  for (const d of deployments) {
    for (const v of list(d.spec?.template?.spec?.volumes)) {
      const claim = record(record(v).persistentVolumeClaim).claimName;
      if (typeof claim === 'string') claims.set(claim, [...(claims.get(claim) ?? []), d]);
    }
  }
  for (const [claim, users] of claims) {
    const holder = { kind: 'PersistentVolumeClaim', metadata: { name: claim } };
    const id = node(holder, (t) => `[(${t})]`, [`claim ${claim}`]);
    for (const d of users) edges.push(`  ${ids.get(d)} --> ${id}`);
  }
  for (const pdb of of('PodDisruptionBudget')) {
    const rule = pdb.spec?.minAvailable !== undefined ? `minAvailable ${pdb.spec.minAvailable}` : `maxUnavailable ${pdb.spec?.maxUnavailable}`;
    const id = node(pdb, (t) => `>${t}]`, [`PodDisruptionBudget ${pdb.metadata.name}`, rule]);
    for (const d of deployments.filter((x) => selects(record(pdb.spec?.selector?.matchLabels), record(x.spec?.template?.metadata?.labels)))) {
      edges.push(`  ${id} -.-> ${ids.get(d)}`);
    }
  }
  return `${[...lines, ...edges].join('\n')}\n`;
}
