/**
 * What the simulated API server tells clients it serves: the groups, versions and resources
 * of a 1.28 API server, limited to what the simulation stores. kubectl 1.27 and 1.28 ask
 * for aggregated discovery (`Accept: application/json;g=apidiscovery.k8s.io;v=v2beta1;
 * as=APIGroupDiscoveryList,application/json`), 1.33 for `v=v2` first; a 1.28 server answers
 * v2beta1 (staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated/handler.go) and
 * the legacy APIGroupList / APIResourceList to clients that do not ask for it
 * (staging/src/k8s.io/apiserver/pkg/endpoints/discovery/{root,group,version}.go).
 */

export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Verbs a real API server lists for it (what this one serves is in api-server.ts). */
  readonly verbs: readonly string[];
  readonly status?: boolean;
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: readonly ResourceInfo[] = [
  { group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], verbs: ALL },
  { group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, verbs: ALL },
  { group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], verbs: ALL },
  { group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], verbs: ALL, status: true },
  { group: 'batch', version: 'v1', resource: 'cronjobs', singular: 'cronjob', kind: 'CronJob', namespaced: true, shortNames: ['cj'], categories: ['all'], verbs: ALL, status: true },
  { group: 'batch', version: 'v1', resource: 'jobs', singular: 'job', kind: 'Job', namespaced: true, categories: ['all'], verbs: ALL, status: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false, verbs: ALL },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false, verbs: ALL },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true, verbs: ALL },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', singular: 'role', kind: 'Role', namespaced: true, verbs: ALL },
];

// A model server's Deployment is restarted by promotion (`kubectl rollout restart`).
const GROUPS = ['apps', 'batch', 'rbac.authorization.k8s.io'];

export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** True when the client accepts the aggregated v2beta1 document (kubectl >= 1.26 does). */
export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((a) => a.replace(/\s/g, '') === AGGREGATED_V2BETA1);
}

function aggregatedGroup(group: string): Record<string, unknown> {
  const resources = RESOURCES.filter((r) => r.group === group).map((r) => ({
    resource: r.resource,
    responseKind: { group: '', version: '', kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames && { shortNames: r.shortNames }),
    ...(r.categories && { categories: r.categories }),
    ...(r.status && { subresources: [{ subresource: 'status', responseKind: { group: '', version: '', kind: r.kind }, verbs: ['get', 'patch', 'update'] }] }),
  }));
  return { metadata: { name: group, creationTimestamp: null }, versions: [{ version: 'v1', resources, freshness: 'Current' }] };
}

/** `/api` or `/apis` as an APIGroupDiscoveryList. */
export function aggregated(root: 'api' | 'apis'): Record<string, unknown> {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2beta1',
    metadata: {},
    items: root === 'api' ? [aggregatedGroup('')] : GROUPS.map(aggregatedGroup),
  };
}

export function legacyVersions(): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] };
}

function groupEntry(group: string): Record<string, unknown> {
  const gv = { groupVersion: `${group}/v1`, version: 'v1' };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function legacyGroups(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(groupEntry) };
}

export function legacyGroup(group: string): Record<string, unknown> | undefined {
  return GROUPS.includes(group) ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) } : undefined;
}

export function legacyResources(group: string, version: string): Record<string, unknown> | undefined {
  if (version !== 'v1' || (group !== '' && !GROUPS.includes(group))) return undefined;
  const resources = RESOURCES.filter((r) => r.group === group).flatMap((r) => [
    {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames && { shortNames: r.shortNames }),
      ...(r.categories && { categories: r.categories }),
    },
    ...(r.status ? [{ name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/v1` : 'v1', resources };
}

export function resourceInfo(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** What `/version` says: the server the simulation stands for. */
export const SERVER_VERSION = {
  major: '1',
  minor: '28',
  gitVersion: 'v1.28.3',
  gitCommit: 'cdk8s-mlops-simulator',
  gitTreeState: 'clean',
  buildDate: '2023-10-18T11:33:23Z',
  goVersion: 'go1.20.10',
  compiler: 'gc',
  platform: 'linux/amd64',
};
