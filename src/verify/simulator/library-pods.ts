import * as path from 'path';
import { COORDINATOR_ROLE, ROLE_LABEL } from '../../conventions';
import { MANAGED_BY_LABEL, MANAGED_BY_LIBRARY } from '../../library-containers';
import { ManifestObject } from './types';

/** One container of a pod, in the order the kubelet runs them: init containers, then the main one. */
export interface PodContainer {
  readonly spec: any;
  readonly init: boolean;
  /** Runs for real: a script the library ships (see `isLibraryContainer`). */
  readonly library: boolean;
}

/**
 * The images the library runs its own scripts on: the coordinators' (Jobs and CronJobs
 * labelled `mlops.cdk8s.io/role: coordinator`), `registry.k8s.io/kubectl` unless the user
 * configured another. The gate, the values reporter and every other library container use it.
 */
export function libraryImages(objects: readonly ManifestObject[]): Set<string> {
  const images = new Set<string>();
  for (const o of objects) {
    if (o.metadata.labels?.[ROLE_LABEL] !== COORDINATOR_ROLE) continue;
    const pod = o.kind === 'Job' ? o.spec?.template?.spec : o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template?.spec : undefined;
    for (const c of pod?.containers ?? []) if (typeof c.image === 'string') images.add(c.image);
  }
  return images;
}

/**
 * Whether a container runs a script the library ships, and so runs here for real (bash, jq
 * and the real kubectl) instead of being modelled: it runs on a library image
 * (`libraryImages`), its command is `bash <file>` (`bash` or a path ending in `/bash`), and
 * that file is a key of a ConfigMap the library made (labelled
 * `app.kubernetes.io/managed-by: cdk8s-mlops`, among the applied objects) mounted into the
 * container. A user's image cannot run here, whatever it runs; a user's script is not in a
 * library ConfigMap.
 */
export function isLibraryContainer(container: any, podSpec: any, objects: readonly ManifestObject[], images: ReadonlySet<string>): boolean {
  return libraryScript(container, podSpec, objects, images) !== undefined;
}

/** The text of the library script a container runs, or undefined when it is not a library container. */
export function libraryScript(container: any, podSpec: any, objects: readonly ManifestObject[], images: ReadonlySet<string>): string | undefined {
  if (!images.has(container.image)) return undefined;
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])];
  if (argv.length < 2 || path.basename(argv[0]) !== 'bash' || !path.isAbsolute(argv[1])) return undefined;
  return scriptText(argv[1], container, podSpec, objects);
}

/**
 * The first of a container's mount paths that its script names literally. The simulator
 * moves the container's paths into a sandbox by rewriting its environment and arguments, so
 * a library script must take every path from them: a literal one would reach this
 * machine's own filesystem.
 */
export function literalMountPath(script: string, mountPaths: readonly string[]): string | undefined {
  return mountPaths.find((m) => new RegExp(`(^|[^A-Za-z0-9_.$-])${m.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?=$|[/"'\s;:)])`, 'm').test(script));
}

/** The containers of a Job's pods in the order the kubelet runs them, each marked library or not. */
export function podContainers(podSpec: any, objects: readonly ManifestObject[], images: ReadonlySet<string>): PodContainer[] {
  return [
    ...(podSpec.initContainers ?? []).map((spec: any) => ({ spec, init: true, library: isLibraryContainer(spec, podSpec, objects, images) })),
    ...(podSpec.containers ?? []).map((spec: any) => ({ spec, init: false, library: isLibraryContainer(spec, podSpec, objects, images) })),
  ];
}

/** The content of the library ConfigMap key mounted at `file` in the container, if any. */
function scriptText(file: string, container: any, podSpec: any, objects: readonly ManifestObject[]): string | undefined {
  for (const m of container.volumeMounts ?? []) {
    const volume = (podSpec.volumes ?? []).find((v: any) => v.name === m.name);
    if (!volume?.configMap) continue;
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name && o.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_LIBRARY);
    if (!cm) continue;
    const mountPath = String(m.mountPath).replace(/\/$/, '');
    const rel = m.subPath !== undefined ? (file === mountPath ? m.subPath : undefined) : file.startsWith(`${mountPath}/`) ? file.slice(mountPath.length + 1) : undefined;
    if (rel === undefined) continue;
    const items: Array<{ key: string; path: string }> = volume.configMap.items ?? Object.keys(cm.data ?? {}).map((key) => ({ key, path: key }));
    const item = items.find((i) => i.path === rel);
    if (item && typeof cm.data?.[item.key] === 'string') return cm.data[item.key];
  }
  return undefined;
}
