import { authorize, User } from './rbac';
import { ManifestObject } from './types';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/**
 * RBAC's privilege-escalation prevention, for the Roles and RoleBindings the simulated API
 * server creates (a scheduled run's reporter grant): a user may create a Role, or a
 * RoleBinding to one, only if it holds every permission the Role grants, in that namespace,
 * unless it may `escalate` (Roles) or `bind` (RoleBindings).
 * - pkg/registry/rbac/role/policybased/storage.go, Create: `escalate` on roles, else
 *   ConfirmNoEscalation over the new Role's rules;
 * - pkg/registry/rbac/rolebinding/policybased/storage.go, Create: `bind` on the referenced
 *   role, else its rules (GetRoleReferenceRules: NotFound when the Role does not exist) and
 *   ConfirmNoEscalation;
 * - pkg/registry/rbac/validation/rule.go, ConfirmNoEscalation, and policy_comparator.go,
 *   Covers: each rule broken down to one verb, group, resource and name must be covered by a
 *   rule the user holds, which is what the authorizer answers for that one request.
 * Returns why the creation is forbidden, or undefined; throws `notFound(role)` as upstream.
 */
export function escalationProblem(
  stored: readonly ManifestObject[], user: User, namespace: string, obj: ManifestObject, notFound: (role: string) => Error,
): string | undefined {
  const may = (verb: string, resource: string, name: string) =>
    authorize(stored, { user, verb, resourceRequest: true, path: '', group: 'rbac.authorization.k8s.io', resource, subresource: '', namespace, name }).allowed;
  let rules: Rule[];
  if (obj.kind === 'Role') {
    if (may('escalate', 'roles', '')) return undefined;
    rules = obj.rules ?? [];
  } else {
    const ref = obj.roleRef ?? {};
    const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    if (may('bind', refResource, ref.name)) return undefined;
    const role = stored.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === namespace));
    if (!role) throw notFound(ref.name);
    rules = role.rules ?? [];
  }
  const missing = rules.flatMap(breakdown).filter((r) => !covered(stored, user, namespace, r));
  if (missing.length === 0) return undefined;
  // ConfirmNoEscalation's message, the missing rules in rbacv1helpers.CompactString form, sorted.
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  return `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${[...new Set(missing.map(compact))].sort().join('\n')}`;
}

/** policy_comparator.go, BreakdownRule: one rule per group, resource, verb and name. */
function breakdown(rule: Rule): Rule[] {
  const out: Rule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        for (const name of names) out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs ?? []) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

/**
 * Whether the user holds one broken-down rule: the authorizer's answer to that exact
 * request. A `*` in it is matched literally, so only a held `*` covers it, as ruleCovers does.
 */
function covered(stored: readonly ManifestObject[], user: User, namespace: string, r: Rule): boolean {
  if (r.nonResourceURLs) {
    return authorize(stored, { user, verb: r.verbs![0], resourceRequest: false, path: r.nonResourceURLs[0], group: '', resource: '', subresource: '', namespace: '', name: '' }).allowed;
  }
  const [resource, subresource = ''] = r.resources![0].split('/');
  return authorize(stored, {
    user, verb: r.verbs![0], resourceRequest: true, path: '', group: r.apiGroups![0], resource, subresource, namespace, name: r.resourceNames?.[0] ?? '',
  }).allowed;
}

/** rbacv1helpers.CompactString: the set fields only. */
function compact(r: Rule): string {
  const list = (v: string[]) => `[${v.map((x) => JSON.stringify(x)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups) parts.push(`APIGroups:${list(r.apiGroups)}`);
  if (r.resources) parts.push(`Resources:${list(r.resources)}`);
  if (r.nonResourceURLs) parts.push(`NonResourceURLs:${list(r.nonResourceURLs)}`);
  if (r.resourceNames) parts.push(`ResourceNames:${list(r.resourceNames)}`);
  parts.push(`Verbs:${list(r.verbs ?? [])}`);
  return `{${parts.join(', ')}}`;
}
