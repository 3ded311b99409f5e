import type { Gpu } from '../model/gpu';
import type { StepResources } from '../model/plus-values';
import type { StepSecurity } from '../model/container-spec';
import type { ModelRegistry } from './registry';
import type { ServingRuntime } from './runtime';
import type { ServingSplit, TrafficSplit } from './split';

/** Replicas chosen by a HorizontalPodAutoscaler on cpu. */
export interface ModelServerAutoscaling {
  /** The fewest replicas, also while idle. */
  readonly minReplicas: number;
  /** The most replicas. */
  readonly maxReplicas: number;
  /**
   * Average cpu use, in percent of the cpu request, the autoscaler keeps replicas at.
   * @default 70
   */
  readonly cpuUtilization?: number;
}

/** How the Service is exposed. */
export type ModelServerServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

/** A port Prometheus scrapes. */
export interface ModelServerMetrics {
  /** The container port serving metrics; must differ from the serving port. */
  readonly port: number;
  /**
   * The HTTP path of the metrics.
   * @default '/metrics'
   */
  readonly path?: string;
}

/** Props of a `ModelServer`. */
export interface ModelServerProps {
  /** The model's folder in the registry (`<model>/<integer version>/`); also its name in the runtime. */
  readonly model: string;
  /** Where approved versions are published; mounted read-only. */
  readonly registry: ModelRegistry;
  /**
   * How versions are found and loaded: `ServingRuntime.tensorflowServing()`, `.triton()`,
   * `.mlserver({ implementation })` or `.image({...})`.
   */
  readonly runtime: ServingRuntime;
  /**
   * Name of the Deployment, Service and the other objects.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Serve this version instead of the latest: the rollback. Remove it to follow the latest again.
   * With a canary split, the stable version (required there).
   * @default - the highest ready version
   */
  readonly version?: number;
  /**
   * Two versions behind the one Service: `ServingSplit.canary({ version, share })` next to the
   * pinned `version`, or `ServingSplit.abTest({ a, b, shareOfB })`. Each version gets its own
   * Deployment (and autoscaler) and the replicas are divided by the share.
   * @default - one version takes all traffic
   */
  readonly split?: ServingSplit;
  /**
   * How the split's share reaches requests.
   * @default TrafficSplit.replicaRatio() - the ratio of pods behind the Service: per pod, not
   * per request, drifting under autoscaling; core Kubernetes only
   */
  readonly trafficSplit?: TrafficSplit;
  /**
   * A fixed number of replicas (of both versions together, with a split); leave out when `autoscaling` is set.
   * @default 2 - one pod can be replaced (drain, rollout) while the other serves
   */
  readonly replicas?: number;
  /**
   * Scale on cpu with a HorizontalPodAutoscaler; the Deployment then declares no replica count,
   * so `kubectl apply` does not reset what the autoscaler chose.
   * @default - a fixed replica count
   */
  readonly autoscaling?: ModelServerAutoscaling;
  /**
   * The PodDisruptionBudget's minimum of available pods during voluntary disruptions (drains).
   * @default - maxUnavailable 1: drains evict one pod at a time
   */
  readonly minAvailable?: number;
  /**
   * The Service type.
   * @default 'ClusterIP' - reachable inside the cluster only; expose it with an Ingress or Gateway of your choice
   */
  readonly serviceType?: ModelServerServiceType;
  /**
   * A metrics port: Prometheus scrape annotations on the pods, and admitted by the NetworkPolicy.
   * @default - no metrics port
   */
  readonly metrics?: ModelServerMetrics;
  /**
   * Cpu and memory of the server container; cpu is what the autoscaler measures against.
   * @default - 500m / 512Mi requested, 1 cpu / 1Gi limit
   */
  readonly resources?: StepResources;
  /**
   * Accelerators per replica. Rolling updates add one pod before removing one, so keep one spare.
   * @default - none
   */
  readonly gpu?: Gpu;
  /**
   * The security profile; every field defaults to the "restricted" Pod Security Standard.
   * @default - uid and gid 1000, non-root, read-only root filesystem
   */
  readonly security?: StepSecurity;
  /**
   * Image of the init container that waits for a ready version (runtimes that load at start).
   * @default 'registry.k8s.io/kubectl:v1.28.15' - bash and coreutils, the pipelines' utility image
   */
  readonly utilityImage?: string;
}
