import * as fs from 'fs';
import * as path from 'path';
import { TOKEN_DIR } from '../../library-containers';
import { SimulatorSetupError } from './load';
import { ManifestObject } from './types';
import { ContainerConfigError, expand, objectData, PodContext, podFieldValue } from './pod-env';


/** One mount of a container: its path inside the container and the sandbox path that holds it. */
export interface Mount {
  readonly path: string;
  readonly host: string;
  readonly readOnly: boolean;
}

/** Where a pod's volumes live on this machine. */
export interface SandboxDirs {
  /** The directory of a claim, shared by every pod that mounts it, kept across pods, runs and Job deletions. */
  claim(namespace: string, claimName: string): string;
  /** This pod's own directory: its emptyDirs and the files of its ConfigMap, Secret, projected and downward API volumes. */
  readonly pod: string;
}

/** What the API server hands a pod for a projected `serviceAccountToken` source: a token bound to the pod. */
export interface PodCredentials {
  readonly token: string;
}

/**
 * The pod's volumes, made on this machine as the kubelet mounts them before the first
 * container starts: a claim is a directory shared by all pods that mount it (what a
 * ReadWriteMany volume gives), an emptyDir a fresh directory of the pod, ConfigMap, Secret,
 * projected and downward API volumes the files their items name (pkg/volume/configmap,
 * secret, projected, downwardapi: every key as a file unless `items` lists some). A missing
 * ConfigMap or Secret that is not optional keeps the pod in ContainerCreating (FailedMount):
 * thrown. Returns the host path of each volume by name.
 */
export function materializeVolumes(podSpec: any, pod: PodContext, dirs: SandboxDirs, creds: PodCredentials): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of podSpec.volumes ?? []) {
    if (v.persistentVolumeClaim) {
      const dir = dirs.claim(pod.namespace, v.persistentVolumeClaim.claimName);
      fs.mkdirSync(dir, { recursive: true });
      out.set(v.name, dir);
      continue;
    }
    const dir = path.join(dirs.pod, 'volumes', v.name);
    fs.mkdirSync(dir, { recursive: true });
    out.set(v.name, dir);
    if (v.emptyDir) continue;
    const files = v.configMap ? keyFiles(pod, 'ConfigMap', v.configMap, v.name)
      : v.secret ? keyFiles(pod, 'Secret', { name: v.secret.secretName, items: v.secret.items, optional: v.secret.optional }, v.name)
        : v.downwardAPI ? downwardFiles(v.downwardAPI.items, pod)
          : v.projected ? projectedFiles(v.projected.sources ?? [], pod, creds, v.name)
            : undefined;
    if (!files) throw new SimulatorSetupError(`pod ${pod.name}: volume "${v.name}" is of a kind the simulator does not model (persistentVolumeClaim, emptyDir, configMap, secret, projected and downwardAPI are)`);
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    }
  }
  return out;
}

/**
 * A container's mounts, longest path first: `subPath` (or `subPathExpr`, expanded with the
 * container's environment) selects a file or directory inside the volume, created as a
 * directory when missing, as the kubelet does (pkg/kubelet/kubelet_pods.go, makeMounts).
 */
export function containerMounts(container: any, volumes: Map<string, string>, env: Readonly<Record<string, string>>, podName: string): Mount[] {
  const mounts: Mount[] = [];
  for (const m of container.volumeMounts ?? []) {
    const base = volumes.get(m.name);
    if (base === undefined) throw new SimulatorSetupError(`container "${container.name}" of pod ${podName} mounts volume "${m.name}", which the pod does not declare`);
    const sub: string = m.subPathExpr !== undefined ? expand(m.subPathExpr, env) : m.subPath ?? '';
    if (sub.split('/').includes('..') || path.isAbsolute(sub)) throw new SimulatorSetupError(`container "${container.name}" of pod ${podName}: subPath "${sub}" must be a relative path without '..'`);
    const host = sub ? path.join(base, sub) : base;
    if (sub && !fs.existsSync(host)) fs.mkdirSync(host, { recursive: true });
    mounts.push({ path: String(m.mountPath).replace(/(.)\/$/, '$1'), host, readOnly: m.readOnly === true });
  }
  return mounts.sort((a, b) => b.path.length - a.path.length);
}

/** The sandbox path of a container path, or undefined when no mount holds it (the container's own filesystem). */
export function hostPath(mounts: readonly Mount[], containerPath: string): string | undefined {
  const m = mounts.find((x) => containerPath === x.path || containerPath.startsWith(x.path === '/' ? '/' : `${x.path}/`));
  return m && m.host + containerPath.slice(m.path === '/' ? 0 : m.path.length);
}

/** Whether the container sees a token where in-cluster clients look for it. */
export function hasToken(mounts: readonly Mount[]): boolean {
  const file = hostPath(mounts, `${TOKEN_DIR}/token`);
  return file !== undefined && fs.existsSync(file);
}

/**
 * The pod spec after ServiceAccount admission (plugin/pkg/admission/serviceaccount/admission.go,
 * mountServiceAccountToken): unless `automountServiceAccountToken` is false on the pod, or on
 * the ServiceAccount when the pod does not say, a projected `kube-api-access` volume (token,
 * the cluster CA, the namespace) is mounted at the token path of every container that does
 * not mount something there already.
 */
export function admitPod(podSpec: any, serviceAccount: ManifestObject | undefined): any {
  const automount = podSpec.automountServiceAccountToken ?? serviceAccount?.automountServiceAccountToken ?? true;
  if (!automount) return podSpec;
  const volume = {
    name: 'kube-api-access-sim',
    projected: {
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
  const mount = (c: any) => ((c.volumeMounts ?? []).some((m: any) => m.mountPath === TOKEN_DIR) ? c
    : { ...c, volumeMounts: [...(c.volumeMounts ?? []), { name: volume.name, mountPath: TOKEN_DIR, readOnly: true }] });
  return {
    ...podSpec,
    volumes: [...(podSpec.volumes ?? []), volume],
    initContainers: podSpec.initContainers?.map(mount),
    containers: (podSpec.containers ?? []).map(mount),
  };
}

function keyFiles(pod: PodContext, kind: 'ConfigMap' | 'Secret', ref: { name: string; items?: Array<{ key: string; path: string }>; optional?: boolean }, volume: string): Record<string, string> {
  const data = objectData(pod, kind, ref.name);
  if (data === undefined) {
    if (ref.optional) return {};
    throw new ContainerConfigError(`pod ${pod.name}: volume "${volume}" needs ${kind} "${ref.name}", which does not exist (FailedMount: the pod would stay in ContainerCreating)`);
  }
  const items = ref.items ?? Object.keys(data).map((key) => ({ key, path: key }));
  const files: Record<string, string> = {};
  for (const item of items) {
    if (!(item.key in data)) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`pod ${pod.name}: volume "${volume}": ${kind} "${ref.name}" has no key "${item.key}" (FailedMount)`);
    }
    files[item.path] = data[item.key];
  }
  return files;
}

function downwardFiles(items: Array<{ path: string; fieldRef?: { fieldPath: string } }> | undefined, pod: PodContext): Record<string, string> {
  const files: Record<string, string> = {};
  for (const item of items ?? []) {
    if (!item.fieldRef) throw new SimulatorSetupError(`pod ${pod.name}: downward API item "${item.path}": only fieldRef is modelled`);
    files[item.path] = podFieldValue(item.fieldRef.fieldPath, pod);
  }
  return files;
}

/** pkg/volume/projected: the union of its sources; a serviceAccountToken source is the pod's bound token. */
function projectedFiles(sources: any[], pod: PodContext, creds: PodCredentials, volume: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const s of sources) {
    if (s.serviceAccountToken) files[s.serviceAccountToken.path] = creds.token;
    else if (s.configMap) Object.assign(files, keyFiles(pod, 'ConfigMap', s.configMap, volume));
    else if (s.secret) Object.assign(files, keyFiles(pod, 'Secret', s.secret, volume));
    else if (s.downwardAPI) Object.assign(files, downwardFiles(s.downwardAPI.items, pod));
    else throw new SimulatorSetupError(`pod ${pod.name}: projected volume "${volume}" has a source the simulator does not model`);
  }
  return files;
}
