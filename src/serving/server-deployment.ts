import { ApiObject } from 'cdk8s';
import { REGISTRY_SCRIPT_DIR } from '../library-containers';
import type { Construct } from 'constructs';
import { EXTERNAL_REFS_ANNOTATION } from '../conventions';
import type { StepSecurity } from '../model/container-spec';
import { containerSecurityContext, podSecurityContext } from '../backends/plain/security';
import { shortHash } from '../model/names';
import { OBJECT_STORE_SCRIPT } from '../model/object-store';
import type { ObjectStorePrefix } from '../model/object-store';
import { registryS3Script } from '../backends/plain/assets';
import { objectStoreClientContainer } from '../backends/plain/object-store-client';
import type * as k8s from '../backends/plain/k8s-types';
import type { ModelRegistry } from './registry';
import { REGISTRY_MOUNT } from './registry';
import type { RuntimeContainer } from './runtime';
import { CURRENT_VERSION_DIR, waitForVersionCommand } from './wait-for-version';

/** On a server's pods: the Deployment that owns them; its selector, so two Deployments of one server never overlap. */
export const DEPLOYMENT_LABEL = 'mlops.cdk8s.io/deployment';
/** On the pods of a split: which of its two versions they serve (`stable`, `canary`, `a`, `b`). */
export const TRACK_LABEL = 'mlops.cdk8s.io/track';

/** A container port of the server. */
export interface ServerPort {
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: 'TCP';
}

/** Everything one Deployment of a server needs; a split renders two. */
export interface ServerDeploymentProps {
  /** The Deployment's name (the server's name, or `<name>-canary` / `<name>-b`). */
  readonly name: string;
  readonly model: string;
  readonly modelPath: string;
  /** The pinned version, or undefined for the latest. */
  readonly version: number | undefined;
  readonly registry: ModelRegistry;
  readonly runtime: RuntimeContainer;
  /** Labels of the objects; pods get these plus the model, the Deployment and the track. */
  readonly labels: Record<string, string>;
  /** The track of a split, for the pods' labels; undefined when unsplit. */
  readonly track?: string;
  /** Fixed replicas; undefined when an autoscaler owns the count. */
  readonly replicas: number | undefined;
  readonly ports: readonly ServerPort[];
  readonly requests: Record<string, string>;
  readonly limits: Record<string, string>;
  readonly security: Required<StepSecurity>;
  readonly utilityImage: string;
  readonly podAnnotations?: Record<string, string>;
  /** The label the model's pods carry, so the Service and budget select all of a server's pods. */
  readonly modelLabel: string;
}

/** Small and fixed: the init container only waits and links (bash). */
const INIT_RESOURCES = { limits: { cpu: '100m', memory: '32Mi' }, requests: { cpu: '10m', memory: '16Mi' } };
/** The reloader is a Python interpreter asleep most of the time. */
const RELOADER_RESOURCES = { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '10m', memory: '32Mi' } };

/** One Deployment serving one version choice of a model, plus the ConfigMap of the files its runtime reads. */
export function renderServerDeployment(scope: Construct, id: string, props: ServerDeploymentProps): void {
  const { runtime, security } = props;
  const configName = `${props.name}-model-config`;
  if (runtime.config) {
    new ApiObject(scope, `${id}Config`, {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configName, labels: props.labels }, data: runtime.config.data,
    });
  }
  const mounts: Array<Record<string, unknown>> = [
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'registry', mountPath: REGISTRY_MOUNT, readOnly: true },
  ];
  const store = props.registry.objectStore;
  const volumes: Array<Record<string, unknown>> = [
    { name: 'tmp', emptyDir: {} },
    // On an object store, the pod's own copy of the ready versions, filled by the containers below.
    store ? { name: 'registry', emptyDir: {} } : { name: 'registry', persistentVolumeClaim: { claimName: props.registry.claimName, readOnly: true } },
  ];
  if (runtime.loadsAtStart) {
    mounts.push({ name: 'current', mountPath: CURRENT_VERSION_DIR, readOnly: true });
    volumes.push({ name: 'current', emptyDir: { sizeLimit: '1Mi' } });
  }
  if (runtime.config) {
    mounts.push({ name: 'model-config', mountPath: runtime.config.mountPath, readOnly: true });
    volumes.push({ name: 'model-config', configMap: { name: configName } });
  }
  const server = {
    name: 'server',
    image: runtime.image,
    command: runtime.command,
    args: runtime.args,
    env: [...Object.entries(runtime.env).map(([name, value]) => ({ name, value })), { name: 'HOME', value: '/tmp' }],
    ports: props.ports,
    // Fails until a version is loaded: no traffic before the first approved model.
    readinessProbe: { httpGet: { path: runtime.readinessPath, port: runtime.probePort }, periodSeconds: 5, failureThreshold: 3 },
    // Only "is the process alive": a missing model must not restart the server in a loop.
    livenessProbe: {
      ...(runtime.livenessPath ? { httpGet: { path: runtime.livenessPath, port: runtime.probePort } } : { tcpSocket: { port: runtime.probePort } }),
      initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 6,
    },
    resources: { requests: props.requests, limits: props.limits },
    securityContext: containerSecurityContext(security),
    volumeMounts: mounts,
  };
  // The helpers write the link of the chosen version; the server only reads it.
  const helperMounts = [
    { name: 'registry', mountPath: REGISTRY_MOUNT, readOnly: true },
    { name: 'current', mountPath: CURRENT_VERSION_DIR },
  ];
  const fetch = store ? objectStoreContainers(scope, id, props, store, security, volumes) : { init: [], sidecar: [] };
  const waits = runtime.loadsAtStart ? [{
    name: 'wait-for-version',
    image: props.utilityImage,
    imagePullPolicy: 'IfNotPresent',
    command: runtime.initCommand ?? waitForVersionCommand(props.modelPath, props.version),
    resources: INIT_RESOURCES,
    securityContext: containerSecurityContext(security),
    volumeMounts: helperMounts,
  }] : [];
  const initContainers = [...fetch.init, ...waits];
  const reloader = runtime.reloader ? [{
    name: 'reloader',
    image: runtime.reloader.image,
    command: runtime.reloader.command,
    env: [{ name: 'HOME', value: '/tmp' }],
    resources: RELOADER_RESOURCES,
    securityContext: containerSecurityContext(security),
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...helperMounts],
  }] : [];
  const selector = { [DEPLOYMENT_LABEL]: props.name };
  const podLabels: Record<string, string> = { ...props.labels, [props.modelLabel]: props.model, ...selector };
  if (props.track) {
    podLabels[TRACK_LABEL] = props.track;
    podLabels['mlops.cdk8s.io/version'] = props.version === undefined ? 'latest' : String(props.version);
  }
  new ApiObject(scope, id, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: props.name, labels: props.labels,
      annotations: { [EXTERNAL_REFS_ANNOTATION]: store ? `secret/${store.credentials.secret}` : `persistentvolumeclaim/${props.registry.claimName}` },
    },
    spec: {
      replicas: props.replicas,
      selector: { matchLabels: selector },
      // A new pod must be ready before an old one goes: never below the desired ready replicas.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: podLabels, annotations: props.podAnnotations },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(security),
          initContainers: initContainers.length > 0 ? initContainers : undefined,
          containers: [server, ...reloader, ...fetch.sidecar],
          volumes,
        },
      },
    },
  });
}

/** The AWS CLI (Python) listing and downloading: more memory than bash. */
const CLIENT_RESOURCES = { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '20m', memory: '96Mi' } };

/**
 * A server on an object-store registry: an init container that waits for the newest ready
 * version (or the pinned one) and downloads it into the pod's `registry` emptyDir as
 * `<model>/<version>/`, so the pod never serves before a version exists; and, for a runtime
 * that follows new versions by itself (TensorFlow Serving, Triton, MLServer's reloader), a
 * sidecar that downloads each newly ready version beside it (into a staging folder, then one
 * rename). A server that loads its version only at start gets none: a promotion restarts it.
 */
function objectStoreContainers(
  scope: Construct, id: string, props: ServerDeploymentProps, store: ObjectStorePrefix, security: Required<StepSecurity>, volumes: Array<Record<string, unknown>>,
): { init: k8s.Container[]; sidecar: k8s.Container[] } {
  const script = registryS3Script();
  const configName = `${props.name}-registry-${shortHash(script)}`;
  new ApiObject(scope, `${id}RegistryScript`, {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configName, labels: props.labels }, data: { [OBJECT_STORE_SCRIPT]: script },
  });
  volumes.push({ name: 'registry-script', configMap: { name: configName } });
  const container = (name: string, args: string[]) => objectStoreClientContainer({
    name, store, model: props.model, args, security, resources: CLIENT_RESOURCES,
    script: { volume: 'registry-script', mountPath: REGISTRY_SCRIPT_DIR },
    target: { volume: 'registry', mountPath: REGISTRY_MOUNT },
  });
  return {
    init: [container('pull-model', ['pull', props.modelPath, props.version === undefined ? '' : String(props.version), 'wait'])],
    sidecar: props.runtime.followsNewVersions ? [container('sync-model', ['sync', props.modelPath, String(store.syncSeconds)])] : [],
  };
}
