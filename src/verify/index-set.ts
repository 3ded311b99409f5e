/**
 * Lookup tables over the whole set of objects, built once per verify run and shared by the
 * cross-object checks.
 */
import { ObjectInfo, PodTemplate, podTemplateOf } from './objects';

export interface ObjectSet {
  readonly all: readonly ObjectInfo[];
  /** First object per `kind/namespace/name` (core kinds and named groups alike; kinds are unique enough here). */
  find(kind: string, namespace: string, name: string): ObjectInfo | undefined;
  byKind(kind: string): readonly ObjectInfo[];
  /** Pod templates of every workload (and bare Pod) in a namespace. */
  podTemplates(namespace: string): readonly PodTemplate[];
  podTemplateOf(info: ObjectInfo): PodTemplate | undefined;
  /** How to name object `index` in a message: its source when known, else its position. */
  where(index: number): string;
  /** The source of object `index`, when the caller gave sources. */
  sourceOf(index: number): string | undefined;
}

export function indexObjects(all: readonly ObjectInfo[], sources?: readonly (string | undefined)[]): ObjectSet {
  const byKey = new Map<string, ObjectInfo>();
  const byKind = new Map<string, ObjectInfo[]>();
  const pods = new Map<string, PodTemplate[]>();
  const templateOf = new Map<ObjectInfo, PodTemplate>();
  for (const info of all) {
    const key = `${info.kind}/${info.namespace}/${info.name}`;
    if (!byKey.has(key)) byKey.set(key, info);
    const list = byKind.get(info.kind) ?? [];
    list.push(info);
    byKind.set(info.kind, list);
    const pod = podTemplateOf(info);
    if (pod) {
      templateOf.set(info, pod);
      const inNs = pods.get(info.namespace) ?? [];
      inNs.push(pod);
      pods.set(info.namespace, inNs);
    }
  }
  return {
    all,
    find: (kind, namespace, name) => byKey.get(`${kind}/${namespace}/${name}`),
    byKind: (kind) => byKind.get(kind) ?? [],
    podTemplates: (namespace) => pods.get(namespace) ?? [],
    podTemplateOf: (info) => templateOf.get(info),
    where: (index) => sources?.[index] ?? `document #${index + 1}`,
    sourceOf: (index) => sources?.[index],
  };
}
