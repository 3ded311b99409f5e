/**
 * Checks over the whole set of objects that no schema can express: names unique, selectors
 * that select something, targets and references that exist, named ports that resolve.
 * Each catches a mistake the API server accepts and the cluster only reveals at run time
 * (a Service with no endpoints, an HPA that never scales, a pod that never starts).
 */
import { ObjectSet } from './index-set';
import {
  containersOf, ContainerInfo, isEmptySelector, ObjectInfo, parseLabelSelector, PodTemplate,
  Selector, selectorMatches, showSelector,
} from './objects';
import { checkReferences } from './references';
import { editDistance } from './suggest';
import { asArray, asRecord, asString, ExternalRefs, Problem, showValue } from './types';

export interface SemanticOptions {
  /**
   * Resources used but deliberately not created by these manifests. Default: none, so a
   * typo in a Secret or claim name cannot pass as "probably exists in the cluster".
   */
  readonly external?: ExternalRefs;
}

export function checkSemantics(set: ObjectSet, options: SemanticOptions = {}): Problem[] {
  return [
    ...checkDuplicates(set),
    ...checkOwnSelectors(set),
    ...checkServices(set),
    ...checkDisruptionBudgets(set),
    ...checkAutoscalers(set),
    ...checkProbePorts(set),
    ...checkBindings(set),
    ...checkReferences(set, options.external),
  ];
}

function problem(info: ObjectInfo, path: string, rule: string, what: string, fix?: string, severity: 'error' | 'warning' = 'error'): Problem {
  return { object: info.label, path, rule, severity, message: `${info.label}: ${what}${fix ? `; ${fix}` : ''}`, fix };
}

/** Two objects with one kind, namespace and name: `kubectl apply` keeps only the last one, silently. */
function checkDuplicates(set: ObjectSet): Problem[] {
  const first = new Map<string, ObjectInfo>();
  const out: Problem[] = [];
  for (const info of set.all) {
    if (!info.name || !info.kind) continue;
    const key = `${info.group}/${info.kind}/${info.namespace}/${info.name}`;
    const prev = first.get(key);
    if (!prev) {
      first.set(key, info);
      continue;
    }
    const p = problem(info, '/metadata/name', 'duplicate',
      `defined twice: ${set.where(prev.index)} and ${set.where(info.index)} both define it`,
      'rename one or delete the copy; kubectl apply would keep only the last one');
    const source = set.sourceOf(info.index);
    out.push(source ? { ...p, source } : p);
  }
  return out;
}

/** A workload whose selector does not match its own template is rejected by the API server. */
function checkOwnSelectors(set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  for (const info of set.all) {
    if (!['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(info.kind)) continue;
    const spec = asRecord(info.obj.spec);
    // A Job generates its own selector unless manualSelector is set.
    if (info.kind === 'Job' && spec?.manualSelector !== true) continue;
    const sel = parseLabelSelector(spec?.selector);
    const pod = set.podTemplateOf(info);
    if (!sel || !pod || isEmptySelector(sel)) continue;
    if (!selectorMatches(sel, pod.labels)) {
      out.push(problem(info, '/spec/selector', 'selector/template',
        `selector ${showSelector(sel)} at /spec/selector does not match its own pod template labels (${showLabels(pod.labels)})`,
        'make every selector label also a label of spec.template.metadata.labels'));
    }
  }
  return out;
}

function showLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : 'none';
}

/** Pod templates in the object's namespace that a selector picks. */
function selected(set: ObjectSet, info: ObjectInfo, sel: Selector): PodTemplate[] {
  return set.podTemplates(info.namespace).filter((p) => selectorMatches(sel, p.labels));
}

/** The closest non-matching template, to show the reader what the selector was probably meant to be. */
function nearest(set: ObjectSet, info: ObjectInfo, sel: Selector): string {
  const keys = Object.keys(sel.matchLabels);
  let best: PodTemplate | undefined;
  let bestScore = 0;
  for (const p of set.podTemplates(info.namespace)) {
    // Equal values count most, then near-misses (a typo), then a shared key.
    const score = keys.reduce((sum, k) => {
      const want = sel.matchLabels[k];
      const have = p.labels[k];
      if (have === undefined) return sum;
      if (have === want) return sum + 4;
      return sum + (editDistance(have, want) <= Math.max(1, Math.floor(want.length / 3)) ? 2 : 1);
    }, 0);
    if (score > bestScore) {
      best = p;
      bestScore = score;
    }
  }
  if (best) return ` (closest: ${best.owner.kind} ${best.owner.name} has ${showLabels(best.labels)})`;
  return set.podTemplates(info.namespace).length ? '' : ` (no workload in namespace ${info.namespace} has a pod template)`;
}

function checkServices(set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  for (const info of set.byKind('Service')) {
    if (info.group !== '') continue;
    const spec = asRecord(info.obj.spec);
    if (!spec || spec.type === 'ExternalName') continue;
    const map = asRecord(spec.selector);
    // No selector means endpoints are managed by hand; nothing to match.
    if (!map || Object.keys(map).length === 0) continue;
    const sel: Selector = { matchLabels: Object.fromEntries(Object.entries(map).filter(([, v]) => typeof v === 'string')) as Record<string, string>, matchExpressions: [] };
    const pods = selected(set, info, sel);
    if (pods.length === 0) {
      out.push(problem(info, '/spec/selector', 'selector/service',
        `selector ${showSelector(sel)} at /spec/selector matches no pod template in namespace ${info.namespace}${nearest(set, info, sel)}`,
        'set it to labels of the pod template of the Deployment, StatefulSet or Job it should route to'));
      continue;
    }
    asArray(spec.ports).forEach((p, i) => {
      const target = asRecord(p)?.targetPort;
      if (typeof target !== 'string') return;
      for (const pod of pods) {
        const cs = containersOf(pod).filter((c) => !c.init);
        if (cs.some((c) => portNames(c).includes(target))) continue;
        out.push(problem(info, `/spec/ports/${i}/targetPort`, 'port/service',
          `targetPort ${showValue(target)} at /spec/ports/${i}/targetPort names no container port of ${pod.owner.kind} ${pod.owner.name} (its named ports: ${cs.flatMap(portNames).join(', ') || 'none'})`,
          `name a container port ${showValue(target)} or use the port number`));
      }
    });
  }
  return out;
}

function portNames(c: ContainerInfo): string[] {
  return asArray(c.container.ports).flatMap((p) => {
    const name = asString(asRecord(p)?.name);
    return name ? [name] : [];
  });
}

function checkDisruptionBudgets(set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  for (const info of set.byKind('PodDisruptionBudget')) {
    const sel = parseLabelSelector(asRecord(info.obj.spec)?.selector);
    // In policy/v1 an empty selector covers every pod of the namespace: nothing to resolve.
    if (!sel || isEmptySelector(sel)) continue;
    if (selected(set, info, sel).length === 0) {
      out.push(problem(info, '/spec/selector', 'selector/pdb',
        `selector ${showSelector(sel)} at /spec/selector matches no pod template in namespace ${info.namespace}${nearest(set, info, sel)}`,
        'set it to the pod template labels of the workload it protects'));
    }
  }
  return out;
}

const SCALABLE = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

function checkAutoscalers(set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  for (const info of set.byKind('HorizontalPodAutoscaler')) {
    const ref = asRecord(asRecord(info.obj.spec)?.scaleTargetRef);
    const kind = asString(ref?.kind);
    const name = asString(ref?.name);
    if (!ref || !kind || !name) continue;
    if (!SCALABLE.has(kind)) {
      out.push(problem(info, '/spec/scaleTargetRef/kind', 'hpa/target',
        `scaleTargetRef kind ${showValue(kind)} at /spec/scaleTargetRef/kind cannot be scaled`,
        'target a Deployment, StatefulSet or ReplicaSet'));
      continue;
    }
    const target = set.find(kind, info.namespace, name);
    if (!target) {
      const sameKind = set.byKind(kind).filter((o) => o.namespace === info.namespace).map((o) => o.name);
      out.push(problem(info, '/spec/scaleTargetRef/name', 'hpa/target',
        `scaleTargetRef ${kind} ${showValue(name)} at /spec/scaleTargetRef does not exist in namespace ${info.namespace}`,
        sameKind.length ? `use one of: ${sameKind.sort().join(', ')}` : `create the ${kind} or fix the name`));
      continue;
    }
    const wantVersion = asString(ref.apiVersion);
    if (wantVersion && target.apiVersion && wantVersion !== target.apiVersion) {
      out.push(problem(info, '/spec/scaleTargetRef/apiVersion', 'hpa/target',
        `scaleTargetRef apiVersion ${showValue(wantVersion)} does not match ${target.label} (${target.apiVersion})`, `use ${showValue(target.apiVersion)}`));
    }
    if (asRecord(target.obj.spec)?.replicas !== undefined) {
      out.push(problem(target, '/spec/replicas', 'hpa/replicas',
        `spec.replicas is set although ${info.label} scales it, so every kubectl apply resets the replica count`,
        'omit spec.replicas on autoscaled workloads', 'warning'));
    }
  }
  return out;
}

const HANDLERS = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

/**
 * Probe ports by name (`httpGet.port`, `tcpSocket.port`) resolve against the ports of the
 * same container, and an unresolved one fails the probe forever. `grpc.port` is a number by
 * schema, so it cannot dangle by name.
 */
function checkProbePorts(set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  for (const info of set.all) {
    const pod = set.podTemplateOf(info);
    if (!pod) continue;
    for (const c of containersOf(pod)) {
      const names = portNames(c);
      const handlers: [Record<string, unknown> | undefined, string][] = HANDLERS.map((h) => [asRecord(c.container[h]), `${c.path}/${h}`]);
      const lifecycle = asRecord(c.container.lifecycle);
      for (const h of ['postStart', 'preStop']) handlers.push([asRecord(lifecycle?.[h]), `${c.path}/lifecycle/${h}`]);
      for (const [handler, at] of handlers) {
        for (const action of ['httpGet', 'tcpSocket']) {
          const port = asRecord(handler?.[action])?.port;
          if (typeof port !== 'string' || names.includes(port)) continue;
          out.push(problem(info, `${at}/${action}/port`, 'port/probe',
            `port ${showValue(port)} at ${at}/${action}/port names no port of container ${showValue(c.name)} (its named ports: ${names.join(', ') || 'none'})`,
            `add a port named ${showValue(port)} to the container, or use the port number`));
        }
      }
    }
  }
  return out;
}

/** Binding shapes the API server rejects but the schema allows. */
function checkBindings(set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  for (const info of set.byKind('ClusterRoleBinding')) {
    const roleRef = asRecord(info.obj.roleRef);
    if (asString(roleRef?.kind) === 'Role') {
      out.push(problem(info, '/roleRef/kind', 'rbac/binding', 'a ClusterRoleBinding cannot refer to a Role at /roleRef/kind', 'use a RoleBinding, or refer to a ClusterRole'));
    }
    asArray(info.obj.subjects).forEach((s, i) => {
      const subject = asRecord(s);
      if (asString(subject?.kind) === 'ServiceAccount' && !asString(subject?.namespace)) {
        out.push(problem(info, `/subjects/${i}/namespace`, 'rbac/binding',
          `ServiceAccount subject ${showValue(subject?.name)} at /subjects/${i} has no namespace`, 'set subjects[].namespace'));
      }
    });
  }
  return out;
}
