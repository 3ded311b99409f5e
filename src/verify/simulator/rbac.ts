import { ManifestObject } from './types';

/** Who a request comes from: the coordinator pod's ServiceAccount. */
export interface Identity {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface Request {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
  /** Empty for list and create, as for the API server. */
  readonly name: string;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

/**
 * Namespaced RBAC as the API server evaluates it: the union of the rules of every Role
 * (or ClusterRole) that a RoleBinding in the request's namespace grants to the
 * ServiceAccount. A rule with resourceNames never matches a request without a name
 * (list), which is why a Role cannot restrict `list` to named Jobs.
 */
export function authorize(objects: readonly ManifestObject[], who: Identity, req: Request): boolean {
  const bindings = objects.filter(
    (o) =>
      o.kind === 'RoleBinding' &&
      o.metadata.namespace === req.namespace &&
      (o.subjects ?? []).some(
        (s: any) =>
          s.kind === 'ServiceAccount' && s.name === who.serviceAccount && (s.namespace ?? o.metadata.namespace) === who.namespace,
      ),
  );
  for (const binding of bindings) {
    const ref = binding.roleRef ?? {};
    const role = objects.find(
      (o) =>
        o.kind === ref.kind &&
        o.metadata.name === ref.name &&
        (ref.kind === 'ClusterRole' || o.metadata.namespace === binding.metadata.namespace),
    );
    const rules: Rule[] = role?.rules ?? [];
    if (rules.some((r) => matches(r, req))) return true;
  }
  return false;
}

function matches(rule: Rule, req: Request): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).includes(v) || (list ?? []).includes('*');
  if (!has(rule.apiGroups, req.group) || !has(rule.resources, req.resource) || !has(rule.verbs, req.verb)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (req.name !== '' && names.includes(req.name));
}

export function userName(who: Identity): string {
  return `system:serviceaccount:${who.namespace}:${who.serviceAccount}`;
}
