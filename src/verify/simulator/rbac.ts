import { ManifestObject } from './types';

/**
 * RBAC as the API server evaluates it, for the requests the simulated API server serves.
 * Each rule below follows the upstream file named beside it (kubernetes/kubernetes).
 */

/** An authenticated user: a ServiceAccount is `system:serviceaccount:<ns>:<name>`. */
export interface User {
  readonly name: string;
  readonly groups: readonly string[];
}

/** What a request asks (staging/src/k8s.io/apiserver/pkg/authorization/authorizer/interfaces.go, Attributes). */
export interface Attributes {
  readonly user: User;
  readonly verb: string;
  /** False for non-resource paths such as /api and /version. */
  readonly resourceRequest: boolean;
  readonly path: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource: string;
  /** Empty for cluster-scoped requests. */
  readonly namespace: string;
  /** Empty for list and create, as for the API server. */
  readonly name: string;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/**
 * The user of a ServiceAccount token and its groups
 * (staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go, UserInfo).
 */
export function serviceAccountUser(namespace: string, name: string): User {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/**
 * What every authenticated user may read: the discovery and version paths
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go: system:discovery and
 * system:public-info-viewer, bound to system:authenticated in cluster_role_bindings).
 */
const BOOTSTRAP: readonly ManifestObject[] = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:discovery' },
    rules: [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'system:discovery' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:discovery' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
  },
];

/**
 * The RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go, Authorize): allowed when
 * any rule of any role bound to the user allows the request; bindings are every
 * ClusterRoleBinding plus the RoleBindings of the request's namespace
 * (pkg/registry/rbac/validation/rule.go, VisitRulesFor). A binding whose role does not exist
 * grants nothing, and the denial's reason names it, as upstream does.
 */
export function authorize(stored: readonly ManifestObject[], a: Attributes): { allowed: boolean; reason: string } {
  const objects = [...BOOTSTRAP, ...stored];
  const errors: string[] = [];
  const bindings = objects.filter(
    (o) => o.kind === 'ClusterRoleBinding' || (o.kind === 'RoleBinding' && a.namespace !== '' && o.metadata.namespace === a.namespace),
  );
  for (const binding of bindings) {
    const bindingNs = binding.kind === 'RoleBinding' ? binding.metadata.namespace ?? '' : '';
    if (!(binding.subjects ?? []).some((s: any) => appliesTo(a.user, s, bindingNs))) continue;
    const ref = binding.roleRef ?? {};
    // GetRoleReferenceRules: a RoleBinding may refer to a Role of its namespace or a ClusterRole.
    const role = objects.find(
      (o) => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === bindingNs),
    );
    if (!role) {
      errors.push(`${ref.kind === 'ClusterRole' ? 'clusterrole' : 'role'}.rbac.authorization.k8s.io "${ref.name}" not found`);
      continue;
    }
    if (((role.rules ?? []) as Rule[]).some((r) => ruleAllows(a, r))) return { allowed: true, reason: '' };
  }
  // rbac.go: `reason = fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(errors))`.
  const reason = errors.length === 0 ? '' : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`;
  return { allowed: false, reason };
}

/**
 * pkg/registry/rbac/validation/rule.go, appliesToUser: a ServiceAccount subject without a
 * namespace means the binding's own; a User matches by name; a Group by membership.
 */
function appliesTo(user: User, s: any, bindingNs: string): boolean {
  switch (s.kind) {
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNs;
      return ns !== '' && user.name === `system:serviceaccount:${ns}:${s.name}`;
    }
    case 'User':
      return user.name === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    default:
      return false;
  }
}

/**
 * plugin/pkg/auth/authorizer/rbac/rbac.go, RuleAllows, with the matchers of
 * pkg/apis/rbac/v1/evaluation_helpers.go: verbs, groups and resources match exactly or by
 * `*`; a subresource is `resource/sub` (or `*` + `/sub`); a rule with resourceNames matches
 * only a request that names one of them, so it never matches a list or a create.
 */
function ruleAllows(a: Attributes, r: Rule): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);
  if (!a.resourceRequest) {
    return has(r.verbs, a.verb) && (r.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceMatches = (r.resources ?? []).some((x) => x === '*' || x === combined || (a.subresource !== '' && x === `*/${a.subresource}`));
  const names = r.resourceNames ?? [];
  return has(r.verbs, a.verb) && has(r.apiGroups, a.group) && resourceMatches && (names.length === 0 || names.includes(a.name));
}

/**
 * The denial's message (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go,
 * forbiddenMessage), with the authorizer's reason after a colon when it gave one.
 */
export function forbiddenMessage(a: Attributes, reason: string): string {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const base = !a.resourceRequest
    ? `User "${a.user.name}" cannot ${a.verb} path "${a.path}"`
    : a.namespace
      ? `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" in the namespace "${a.namespace}"`
      : `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" at the cluster scope`;
  return reason ? `${base}: ${reason}` : base;
}
