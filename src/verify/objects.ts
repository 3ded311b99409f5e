/**
 * How the checks see objects: identity (kind, namespace, name), and the pod templates that
 * workloads carry. Shared by the semantic checks, the pipeline checks and the planner.
 */
import { asArray, asRecord, asString, KubeObject, metadataOf, pointer, stringMap } from './types';

/**
 * Kinds that live outside namespaces. Only kinds of the groups we validate are listed; an
 * unknown kind is treated as namespaced, which at worst makes its label read `Kind/ns/name`.
 */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding',
  'IngressClass', 'ComponentStatus',
]);

/** One object of the input, with what every check needs precomputed once. */
export interface ObjectInfo {
  readonly obj: KubeObject;
  /** Position in the input, so problems can be ordered like the input and linked to a source. */
  readonly index: number;
  readonly apiVersion: string;
  /** API group: `''` for core, `apps`, `batch`, ... */
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  /** Effective namespace (the default one when unset); `''` for cluster-scoped kinds. */
  readonly namespace: string;
  /** `Kind/namespace/name` or `Kind/name`. */
  readonly label: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export function describeObject(obj: KubeObject, index: number, defaultNamespace: string): ObjectInfo {
  const meta = metadataOf(obj);
  const apiVersion = asString(obj.apiVersion) ?? '';
  const kind = asString(obj.kind) ?? '';
  const name = asString(meta.name) ?? asString(meta.generateName) ?? '';
  const namespace = CLUSTER_SCOPED.has(kind) ? '' : asString(meta.namespace) || defaultNamespace;
  return {
    obj,
    index,
    apiVersion,
    group: apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '',
    kind,
    name,
    namespace,
    label: objectLabel(kind, namespace, name),
    labels: stringMap(meta.labels),
    annotations: stringMap(meta.annotations),
  };
}

export function objectLabel(kind: string, namespace: string, name: string): string {
  const k = kind || '<no kind>';
  const n = name || '<no name>';
  return namespace ? `${k}/${namespace}/${n}` : `${k}/${n}`;
}

/** A pod template carried by a workload (or a bare Pod's own spec). */
export interface PodTemplate {
  readonly owner: ObjectInfo;
  /** Labels the pods get; a bare Pod's own labels. */
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** The PodSpec. */
  readonly spec: Record<string, unknown>;
  /** JSON pointer of `spec` inside the owner. */
  readonly specPath: string;
}

/** Kinds whose pods a Service, PDB or HPA can target. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'] as const;

export function podTemplateOf(info: ObjectInfo): PodTemplate | undefined {
  const spec = asRecord(info.obj.spec);
  if (!spec) return undefined;
  if (info.group === '' && info.kind === 'Pod') {
    return { owner: info, labels: info.labels, annotations: info.annotations, spec, specPath: '/spec' };
  }
  let template: Record<string, unknown> | undefined;
  let path: string;
  if (info.kind === 'CronJob' && info.group === 'batch') {
    template = asRecord(asRecord(asRecord(spec.jobTemplate)?.spec)?.template);
    path = pointer('spec', 'jobTemplate', 'spec', 'template');
  } else if ((WORKLOAD_KINDS as readonly string[]).includes(info.kind) && ['apps', 'batch'].includes(info.group)) {
    template = asRecord(spec.template);
    path = pointer('spec', 'template');
  } else {
    return undefined;
  }
  const podSpec = asRecord(template?.spec);
  if (!template || !podSpec) return undefined;
  const meta = asRecord(template.metadata) ?? {};
  return {
    owner: info,
    labels: stringMap(meta.labels),
    annotations: stringMap(meta.annotations),
    spec: podSpec,
    specPath: path + '/spec',
  };
}

/** A container of a pod template, with where it sits. */
export interface ContainerInfo {
  readonly container: Record<string, unknown>;
  readonly name: string;
  /** JSON pointer inside the owner object. */
  readonly path: string;
  readonly init: boolean;
}

export function containersOf(pod: PodTemplate): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const field of ['initContainers', 'containers'] as const) {
    asArray(pod.spec[field]).forEach((c, i) => {
      const container = asRecord(c);
      if (!container) return;
      out.push({
        container,
        name: asString(container.name) ?? `#${i}`,
        path: `${pod.specPath}/${field}/${i}`,
        init: field === 'initContainers',
      });
    });
  }
  return out;
}

/** A label selector (`matchLabels` + `matchExpressions`) or a Service's plain map. */
export interface Selector {
  readonly matchLabels: Record<string, string>;
  readonly matchExpressions: readonly { key: string; operator: string; values: readonly string[] }[];
}

export function parseLabelSelector(value: unknown): Selector | undefined {
  const rec = asRecord(value);
  if (!rec) return undefined;
  const exprs = asArray(rec.matchExpressions).flatMap((e) => {
    const r = asRecord(e);
    const key = asString(r?.key);
    const operator = asString(r?.operator);
    if (!r || key === undefined || operator === undefined) return [];
    return [{ key, operator, values: asArray(r.values).filter((v): v is string => typeof v === 'string') }];
  });
  return { matchLabels: stringMap(rec.matchLabels), matchExpressions: exprs };
}

export function isEmptySelector(sel: Selector): boolean {
  return Object.keys(sel.matchLabels).length === 0 && sel.matchExpressions.length === 0;
}

/** Kubernetes label-selector semantics; an empty selector matches everything. */
export function selectorMatches(sel: Selector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) {
    if (labels[k] !== v) return false;
  }
  for (const e of sel.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function showSelector(sel: Selector): string {
  const parts = Object.entries(sel.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions) {
    parts.push(e.values.length ? `${e.key} ${e.operator} (${e.values.join(',')})` : `${e.operator} ${e.key}`);
  }
  return parts.join(',');
}
