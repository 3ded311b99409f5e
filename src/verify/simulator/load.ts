import { PIPELINE_LABEL, ROLE_LABEL } from '../../conventions';
import { ManifestObject } from './types';

export interface PlanEntry {
  readonly step: string;
  readonly job: string;
  readonly upstream: readonly string[];
  /** Column 4, the trigger rule (docs/coordinator-contract.md); `all-succeeded` when absent. */
  readonly rule: string;
  /** Column 5, `job` or `gate`. */
  readonly kind: string;
  /** Column 8, the failure budget of the node's group: failures of its members up to `n` do not fail the run. */
  readonly budget?: { readonly group: string; readonly n: number };
  /** Column 9, the cap of the node's group: at most `n` of its members run at once. */
  readonly cap?: { readonly group: string; readonly n: number };
}

/** A file the coordinator's container sees, from a mounted ConfigMap. */
export interface MountedFile {
  /** Absolute path inside the container. */
  readonly path: string;
  readonly content: string;
}

/** The coordinator as the synthesized objects declare it. */
export interface CoordinatorSpec {
  readonly pipeline: string;
  readonly namespace: string;
  readonly job: ManifestObject;
  readonly configMap: ManifestObject;
  /** `coordinate.sh` from the ConfigMap. */
  readonly script: string;
  readonly plan: readonly PlanEntry[];
  readonly container: any;
  readonly files: readonly MountedFile[];
  /** Container paths of emptyDir mounts. */
  readonly emptyDirs: readonly string[];
  /** Container paths of every mount, longest first, for mapping paths into the sandbox. */
  readonly mountPaths: readonly string[];
  readonly serviceAccount: string;
  readonly hasToken: boolean;
}

/** A problem with the objects themselves: the run cannot even start. */
export class SimulatorSetupError extends Error {}

/**
 * Find the coordinator (its Job by the `mlops.cdk8s.io/role: coordinator` label, its
 * ConfigMap through the Job's volume mounts) and read back the plan, exactly as the
 * cluster would see them after `kubectl apply`.
 */
export function loadCoordinator(objects: readonly ManifestObject[], namespace: string, pipeline?: string): CoordinatorSpec {
  const candidates = objects.filter(
    (o) => o.kind === 'Job' && o.metadata?.labels?.[ROLE_LABEL] === 'coordinator' && (pipeline === undefined || o.metadata.labels?.[PIPELINE_LABEL] === pipeline),
  );
  if (candidates.length === 0) {
    throw new SimulatorSetupError(`no coordinator Job (label ${ROLE_LABEL}: coordinator${pipeline ? `, ${PIPELINE_LABEL}: ${pipeline}` : ''}) among the ${objects.length} objects`);
  }
  if (candidates.length > 1) {
    throw new SimulatorSetupError(`${candidates.length} coordinator Jobs (${candidates.map((c) => c.metadata.name).join(', ')}); pass the pipeline option to pick one`);
  }
  const job = candidates[0];
  const ns = job.metadata.namespace ?? namespace;
  const name = job.metadata.name;
  const pod = job.spec?.template?.spec ?? {};
  const containers: any[] = pod.containers ?? [];
  const container = containers.find((c) => [...(c.command ?? []), ...(c.args ?? [])].some((a: string) => a.includes('coordinate.sh'))) ?? containers[0];
  if (!container) throw new SimulatorSetupError(`coordinator Job ${name} has no container`);

  const files: MountedFile[] = [];
  const emptyDirs: string[] = [];
  let configMap: ManifestObject | undefined;
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v: any) => v.name === mount.name);
    if (!volume) throw new SimulatorSetupError(`coordinator Job ${name} mounts volume "${mount.name}", which its pod does not declare`);
    if (volume.emptyDir) {
      emptyDirs.push(mount.mountPath);
    } else if (volume.configMap) {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name && (o.metadata.namespace ?? namespace) === ns);
      if (!cm) throw new SimulatorSetupError(`coordinator Job ${name} mounts ConfigMap "${volume.configMap.name}", which is not among the objects`);
      configMap ??= cm;
      const data: Record<string, string> = cm.data ?? {};
      const items: Array<{ key: string; path: string }> = volume.configMap.items ?? Object.keys(data).map((k) => ({ key: k, path: k }));
      for (const item of items) {
        if (mount.subPath !== undefined && mount.subPath !== item.path) continue;
        if (!(item.key in data)) throw new SimulatorSetupError(`ConfigMap ${cm.metadata.name} has no key "${item.key}"`);
        files.push({ path: mount.subPath !== undefined ? mount.mountPath : `${mount.mountPath.replace(/\/$/, '')}/${item.path}`, content: data[item.key] });
      }
    } else {
      throw new SimulatorSetupError(`coordinator Job ${name} mounts volume "${mount.name}" of a kind the simulator does not model (only configMap and emptyDir)`);
    }
  }
  if (!configMap) throw new SimulatorSetupError(`coordinator Job ${name} mounts no ConfigMap, so it has no script`);
  const data: Record<string, string> = configMap.data ?? {};
  for (const k of ['coordinate.sh', 'plan']) {
    if (typeof data[k] !== 'string') throw new SimulatorSetupError(`ConfigMap ${configMap.metadata.name} has no "${k}" key`);
  }

  const saName: string = pod.serviceAccountName ?? pod.serviceAccount ?? 'default';
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === saName && (o.metadata.namespace ?? namespace) === ns);
  if (!sa && saName !== 'default') {
    throw new SimulatorSetupError(`pods "${name}" is forbidden: error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`);
  }
  const hasToken = pod.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;

  return {
    pipeline: job.metadata.labels?.[PIPELINE_LABEL] ?? '',
    namespace: ns,
    job,
    configMap,
    script: data['coordinate.sh'],
    plan: parsePlan(data.plan),
    container,
    files,
    emptyDirs,
    mountPaths: [...(container.volumeMounts ?? []).map((m: any) => m.mountPath as string)].sort((a, b) => b.length - a.length),
    serviceAccount: saName,
    hasToken,
  };
}

/** `<step>\t<job>\t<upstream,...|->` per line, as docs/ordering.md specifies. */
export function parsePlan(text: string): PlanEntry[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line, i) => {
      const [step, job, up, rule, kind, , , budget, cap] = line.split('\t');
      if (!step || !job || up === undefined) throw new SimulatorSetupError(`plan line ${i + 1} is not "<step>\\t<job>\\t<upstream>": ${JSON.stringify(line)}`);
      return {
        step,
        job,
        upstream: up === '-' ? [] : up.split(','),
        rule: rule && rule !== '-' ? rule : 'all-succeeded',
        kind: kind && kind !== '-' ? kind : 'job',
        budget: groupColumn(budget, i),
        cap: groupColumn(cap, i),
      };
    });
}

/** Columns 8 and 9: `<group>:<n>`, or `-` / absent. */
function groupColumn(text: string | undefined, i: number): { group: string; n: number } | undefined {
  if (text === undefined || text === '-') return undefined;
  const m = /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new SimulatorSetupError(`plan line ${i + 1}: ${JSON.stringify(text)} is not "<group>:<n>"`);
  return { group: m[1], n: Number(m[2]) };
}

/**
 * The container's environment as the kubelet would build it: literal values, the
 * downward API, ConfigMap keys and `$(VAR)` references to earlier variables.
 */
export function resolveEnv(c: CoordinatorSpec, objects: readonly ManifestObject[], podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  const configMapKey = (name: string, key: string, optional?: boolean) => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    const v = cm?.data?.[key];
    if (v === undefined && !optional) throw new SimulatorSetupError(`coordinator env refers to ConfigMap ${name} key ${key}, which does not exist (CreateContainerConfigError)`);
    return v;
  };
  for (const from of c.container.envFrom ?? []) {
    if (!from.configMapRef) throw new SimulatorSetupError('coordinator envFrom: only configMapRef is modelled');
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef.name);
    for (const [k, v] of Object.entries<string>(cm?.data ?? {})) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of c.container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => env[v] ?? m);
    } else if (e.valueFrom?.fieldRef) {
      const path: string = e.valueFrom.fieldRef.fieldPath;
      const labels = c.job.spec?.template?.metadata?.labels ?? {};
      const fields: Record<string, string> = {
        'metadata.namespace': c.namespace,
        'metadata.name': podName,
        'spec.serviceAccountName': c.serviceAccount,
        'spec.nodeName': 'sim-node-1',
        'status.podIP': '10.244.0.17',
        'status.hostIP': '10.0.0.2',
        'metadata.uid': '00000000-0000-4000-8000-00000000c0de',
      };
      const label = path.match(/^metadata\.labels\['(.+)'\]$/);
      const value = label ? labels[label[1]] : fields[path];
      if (value === undefined) throw new SimulatorSetupError(`coordinator env ${e.name}: the simulator does not model fieldPath ${path}`);
      env[e.name] = value;
    } else if (e.valueFrom?.configMapKeyRef) {
      const r = e.valueFrom.configMapKeyRef;
      const v = configMapKey(r.name, r.key, r.optional);
      if (v !== undefined) env[e.name] = v;
    } else {
      throw new SimulatorSetupError(`coordinator env ${e.name}: only value, fieldRef and configMapKeyRef are modelled`);
    }
  }
  return env;
}
