/**
 * Dangling references: every PersistentVolumeClaim, Secret, ConfigMap, ServiceAccount and
 * Role an object names must be created by the same manifests or be declared external
 * (option `external`, or the `mlops.cdk8s.io/external-refs` annotation, see conventions.ts).
 * A missing one fails only at run time, as a pod stuck in ContainerCreating or a
 * CreateContainerConfigError, which is what this check exists to prevent.
 */
import { EXTERNAL_REFS_ANNOTATION } from './conventions';
import { ObjectSet } from './index-set';
import { containersOf, ObjectInfo } from './objects';
import { asArray, asRecord, asString, ExternalRefs, pointer, Problem, showValue } from './types';

type RefKind = 'secret' | 'configmap' | 'persistentvolumeclaim' | 'serviceaccount' | 'role' | 'clusterrole';

const KIND_OF: Record<RefKind, string> = {
  secret: 'Secret', configmap: 'ConfigMap', persistentvolumeclaim: 'PersistentVolumeClaim',
  serviceaccount: 'ServiceAccount', role: 'Role', clusterrole: 'ClusterRole',
};
const OPTION_OF: Record<RefKind, keyof ExternalRefs> = {
  secret: 'secrets', configmap: 'configMaps', persistentvolumeclaim: 'persistentVolumeClaims',
  serviceaccount: 'serviceAccounts', role: 'roles', clusterrole: 'clusterRoles',
};
const ALIASES: Record<string, RefKind> = { pvc: 'persistentvolumeclaim', sa: 'serviceaccount' };

/** Objects every namespace or cluster has without anyone creating them. */
const BUILT_IN: Partial<Record<RefKind, ReadonlySet<string>>> = {
  serviceaccount: new Set(['default']),
  configmap: new Set(['kube-root-ca.crt']),
  clusterrole: new Set(['cluster-admin', 'admin', 'edit', 'view']),
};

interface Ref {
  readonly kind: RefKind;
  readonly name: string;
  readonly namespace: string;
  readonly path: string;
}

export function checkReferences(set: ObjectSet, external: ExternalRefs = {}): Problem[] {
  const problems: Problem[] = [];
  for (const info of set.all) {
    const declared = declaredExternal(info, set, problems);
    for (const ref of referencesOf(info, set)) {
      if (isSatisfied(ref, set, external, declared)) continue;
      const kind = KIND_OF[ref.kind];
      const fix = `create the ${kind}, or declare it external: annotate ${info.kind} ${info.name} with ${EXTERNAL_REFS_ANNOTATION}: "${ref.kind}/${ref.name}", or pass external.${OPTION_OF[ref.kind]}: ["${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}"]`;
      problems.push({
        object: info.label,
        path: ref.path,
        rule: `reference/${ref.kind}`,
        severity: 'error',
        message: `${info.label}: ${kind} ${showValue(ref.name)} referenced at ${ref.path} is not created by these manifests${ref.namespace && ref.namespace !== info.namespace ? ` (in namespace ${ref.namespace})` : ''}; ${fix}`,
        fix,
      });
    }
  }
  return problems;
}

function isSatisfied(ref: Ref, set: ObjectSet, external: ExternalRefs, declared: ReadonlySet<string>): boolean {
  if (BUILT_IN[ref.kind]?.has(ref.name)) return true;
  if (ref.kind === 'clusterrole' && ref.name.startsWith('system:')) return true;
  if (set.find(KIND_OF[ref.kind], ref.namespace, ref.name)) return true;
  const entries = external[OPTION_OF[ref.kind]] ?? [];
  if (entries.includes(ref.name) || (ref.namespace && entries.includes(`${ref.namespace}/${ref.name}`))) return true;
  return declared.has(`${ref.kind}/${ref.name}`) || (ref.namespace !== '' && declared.has(`${ref.kind}/${ref.namespace}/${ref.name}`));
}

/** Parses the external-refs annotation of an object (and of its pod template), reporting entries it cannot read. */
function declaredExternal(info: ObjectInfo, set: ObjectSet, problems: Problem[]): Set<string> {
  const out = new Set<string>();
  const sources: [string | undefined, string][] = [[info.annotations[EXTERNAL_REFS_ANNOTATION], '/metadata/annotations']];
  const pod = set.podTemplateOf(info);
  if (pod && pod.specPath !== '/spec') {
    sources.push([pod.annotations[EXTERNAL_REFS_ANNOTATION], pod.specPath.replace(/\/spec$/, '/metadata/annotations')]);
  }
  for (const [value, base] of sources) {
    if (value === undefined) continue;
    for (const raw of value.split(',')) {
      const entry = raw.trim();
      if (!entry) continue;
      const slash = entry.indexOf('/');
      const kindWord = slash > 0 ? entry.slice(0, slash).toLowerCase() : '';
      const kind = (ALIASES[kindWord] ?? kindWord) as RefKind;
      const name = slash > 0 ? entry.slice(slash + 1) : '';
      if (!(kind in KIND_OF) || !name) {
        const path = base + pointer(EXTERNAL_REFS_ANNOTATION);
        problems.push({
          object: info.label, path, rule: 'reference/annotation', severity: 'warning',
          message: `${info.label}: cannot read ${showValue(entry)} in annotation ${EXTERNAL_REFS_ANNOTATION} at ${path}; write kind/name with kind one of ${Object.keys(KIND_OF).join(', ')}`,
        });
        continue;
      }
      out.add(`${kind}/${name}`);
    }
  }
  return out;
}

function referencesOf(info: ObjectInfo, set: ObjectSet): Ref[] {
  const refs: Ref[] = [];
  const ns = info.namespace;
  const add = (kind: RefKind, name: unknown, path: string, optional?: unknown, namespace = ns) => {
    if (typeof name === 'string' && name !== '' && optional !== true) refs.push({ kind, name, namespace, path });
  };

  const pod = set.podTemplateOf(info);
  if (pod) {
    const base = pod.specPath;
    const spec = pod.spec;
    add('serviceaccount', spec.serviceAccountName ?? spec.serviceAccount, `${base}/${spec.serviceAccountName !== undefined ? 'serviceAccountName' : 'serviceAccount'}`);
    asArray(spec.imagePullSecrets).forEach((s, i) => add('secret', asRecord(s)?.name, `${base}/imagePullSecrets/${i}/name`));
    asArray(spec.volumes).forEach((v, i) => {
      const vol = asRecord(v) ?? {};
      const at = `${base}/volumes/${i}`;
      const pvc = asRecord(vol.persistentVolumeClaim);
      add('persistentvolumeclaim', pvc?.claimName, `${at}/persistentVolumeClaim/claimName`);
      const secret = asRecord(vol.secret);
      add('secret', secret?.secretName, `${at}/secret/secretName`, secret?.optional);
      const cm = asRecord(vol.configMap);
      add('configmap', cm?.name, `${at}/configMap/name`, cm?.optional);
      asArray(asRecord(vol.projected)?.sources).forEach((src, j) => {
        const s = asRecord(asRecord(src)?.secret);
        add('secret', s?.name, `${at}/projected/sources/${j}/secret/name`, s?.optional);
        const c = asRecord(asRecord(src)?.configMap);
        add('configmap', c?.name, `${at}/projected/sources/${j}/configMap/name`, c?.optional);
      });
    });
    for (const c of containersOf(pod)) {
      asArray(c.container.env).forEach((e, i) => {
        const from = asRecord(asRecord(e)?.valueFrom);
        const sk = asRecord(from?.secretKeyRef);
        add('secret', sk?.name, `${c.path}/env/${i}/valueFrom/secretKeyRef/name`, sk?.optional);
        const ck = asRecord(from?.configMapKeyRef);
        add('configmap', ck?.name, `${c.path}/env/${i}/valueFrom/configMapKeyRef/name`, ck?.optional);
      });
      asArray(c.container.envFrom).forEach((e, i) => {
        const s = asRecord(asRecord(e)?.secretRef);
        add('secret', s?.name, `${c.path}/envFrom/${i}/secretRef/name`, s?.optional);
        const cm = asRecord(asRecord(e)?.configMapRef);
        add('configmap', cm?.name, `${c.path}/envFrom/${i}/configMapRef/name`, cm?.optional);
      });
    }
  }

  if (info.group === 'rbac.authorization.k8s.io' && (info.kind === 'RoleBinding' || info.kind === 'ClusterRoleBinding')) {
    asArray(info.obj.subjects).forEach((s, i) => {
      const subject = asRecord(s);
      if (asString(subject?.kind) !== 'ServiceAccount') return;
      // A RoleBinding's ServiceAccount subject defaults to the binding's namespace; a
      // ClusterRoleBinding's has none to default to (checkBindings reports that).
      const namespace = asString(subject?.namespace) ?? (info.kind === 'RoleBinding' ? ns : undefined);
      if (namespace) add('serviceaccount', subject?.name, `/subjects/${i}/name`, undefined, namespace);
    });
    const roleRef = asRecord(info.obj.roleRef);
    const refKind = asString(roleRef?.kind);
    if (refKind === 'Role' && info.kind === 'RoleBinding') add('role', roleRef?.name, '/roleRef/name');
    if (refKind === 'ClusterRole') add('clusterrole', roleRef?.name, '/roleRef/name', undefined, '');
  }
  return refs;
}
