import { SimulatorSetupError } from './load';
import { ManifestObject } from './types';

/** What the kubelet knows about a pod when it starts its containers. */
export interface PodContext {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** The pod's labels: its template's plus those the Job controller adds. */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** The stored objects its env and volumes refer to (ConfigMaps, Secrets), as the API server holds them. */
  readonly objects: readonly ManifestObject[];
}

/** The environment the kubelet always adds: the `kubernetes` Service of the default namespace, whatever `enableServiceLinks` says. */
export const SERVICE_ENV: Readonly<Record<string, string>> = {
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
};

/** Where a `*KeyRef` could not be resolved: the kubelet would not start the container. */
export class ContainerConfigError extends SimulatorSetupError {}

/**
 * A container's environment as the kubelet builds it (pkg/kubelet/kubelet_pods.go,
 * makeEnvironmentVariables): `envFrom` first (ConfigMaps and Secrets, with their prefix; keys
 * that are not valid env names are skipped), then `env` in order, where `$(VAR)` refers to
 * variables defined before it or the service variables. A missing ConfigMap, Secret or key
 * that is not `optional` is CreateContainerConfigError: thrown unless `lenient`, which skips
 * the variable (for a modelled container whose environment is only read for its paths).
 */
export function containerEnv(container: any, pod: PodContext, lenient = false): Record<string, string> {
  const env: Record<string, string> = {};
  const missing = (what: string, optional: boolean | undefined): undefined => {
    if (optional || lenient) return undefined;
    throw new ContainerConfigError(`container "${container.name}" of pod ${pod.name}: ${what} (CreateContainerConfigError: the kubelet would not start it)`);
  };
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    if (!ref) throw new SimulatorSetupError(`container "${container.name}" of pod ${pod.name}: envFrom other than configMapRef and secretRef is not modelled`);
    const data = objectData(pod, kind, ref.name);
    if (data === undefined) {
      missing(`envFrom ${kind} "${ref.name}" does not exist`, ref.optional);
      continue;
    }
    for (const [k, v] of Object.entries(data)) {
      // makeEnvironmentVariables: keys that are not C identifiers after the prefix are skipped (and reported as an event).
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(`${from.prefix ?? ''}${k}`)) env[`${from.prefix ?? ''}${k}`] = v;
    }
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(String(e.value ?? ''), { ...SERVICE_ENV, ...env });
    } else if (e.valueFrom.fieldRef) {
      env[e.name] = podFieldValue(e.valueFrom.fieldRef.fieldPath, pod);
    } else if (e.valueFrom.configMapKeyRef || e.valueFrom.secretKeyRef) {
      const ref = e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef;
      const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const data = objectData(pod, kind, ref.name);
      const v = data?.[ref.key];
      if (v !== undefined) env[e.name] = v;
      else missing(data === undefined ? `${kind} "${ref.name}" does not exist` : `${kind} "${ref.name}" has no key "${ref.key}"`, ref.optional);
    } else {
      throw new SimulatorSetupError(`container "${container.name}" of pod ${pod.name}: env ${e.name}: only value, fieldRef, configMapKeyRef and secretKeyRef are modelled`);
    }
  }
  return env;
}

/**
 * `$(VAR)` references, as the kubelet expands env values, command and args
 * (third_party/forked/golang/expansion/expand.go): a defined variable is replaced, `$$` is a
 * literal `$`, and an undefined reference stays as written.
 */
export function expand(input: string, env: Readonly<Record<string, string>>): string {
  return input.replace(/\$\$|\$\(([^()]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(env, name) ? env[name] : m;
  });
}

/**
 * A downward API field of the pod (pkg/kubelet/kubelet_pods.go, podFieldSelectorRuntimeValue:
 * spec.nodeName, spec.serviceAccountName, status.hostIP and status.podIP here; everything else
 * through pkg/fieldpath/fieldpath.go, ExtractFieldPathAsString: metadata.name, namespace,
 * uid, and a label or annotation by `metadata.labels['key']`, which is empty when the key is
 * absent; the whole map is `key="value"` lines in key order, FormatMap).
 */
export function podFieldValue(fieldPath: string, pod: PodContext): string {
  const fields: Record<string, string> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
    'metadata.uid': pod.uid,
    'spec.serviceAccountName': pod.serviceAccount,
    'spec.nodeName': 'sim-node-1',
    'status.hostIP': '10.0.0.2',
    'status.podIP': '10.244.0.17',
  };
  if (fieldPath in fields) return fields[fieldPath];
  const sub = fieldPath.match(/^metadata\.(labels|annotations)\['(.*)'\]$/);
  if (sub) return (sub[1] === 'labels' ? pod.labels : pod.annotations)[sub[2]] ?? '';
  if (fieldPath === 'metadata.labels' || fieldPath === 'metadata.annotations') {
    const map = fieldPath === 'metadata.labels' ? pod.labels : pod.annotations;
    return Object.keys(map).sort().map((k) => `${k}=${JSON.stringify(map[k])}`).join('\n');
  }
  throw new SimulatorSetupError(`pod ${pod.name}: the simulator does not model fieldPath ${fieldPath}`);
}

/**
 * A ConfigMap's or Secret's data as the kubelet reads it: Secret values are base64 in
 * `data` (`stringData` is merged into `data` when the API server stores the Secret,
 * pkg/apis/core/v1/conversion.go). Undefined when the object does not exist.
 */
export function objectData(pod: PodContext, kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> | undefined {
  const o = pod.objects.find((x) => x.kind === kind && x.metadata.name === name && (x.metadata.namespace ?? pod.namespace) === pod.namespace);
  if (!o) return undefined;
  if (kind === 'ConfigMap') return { ...(o.data ?? {}) };
  const decoded = Object.fromEntries(Object.entries<string>(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { ...decoded, ...(o.stringData ?? {}) };
}
