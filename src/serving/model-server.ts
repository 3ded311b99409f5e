import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { dnsLabelProblem, imageReferenceProblem } from '../model/names';
import { checkResources, resolveResources, toQuantities } from '../model/resources';
import { isWholeNumberIn, shown } from '../model/values';
import { DEFAULT_COORDINATOR_IMAGE } from '../backends/plain/plain-backend';
import { renderHttpRoute } from './http-route';
import type { ModelServerProps } from './model-server-props';
import { PromotionHooks } from './promotion-hook';
import type { IPromotionListener, PromotionHook } from './promotion-hook';
import { resolvePodSecurity } from './pod-security';
import { RegistryAccess } from './registry';
import { DEPLOYMENT_LABEL, renderServerDeployment, ServerPort, TRACK_LABEL } from './server-deployment';
import { serverTracks, SPLIT_ANNOTATION, splitSummary } from './split-tracks';
import { printWarningsAtSynth } from './synth-warnings';

/** On a server's objects and pods: the server's name. Its Service and budget select by it. */
export const SERVER_LABEL = 'mlops.cdk8s.io/server';
/** On a server's pods: the model it serves. */
export const MODEL_LABEL = 'mlops.cdk8s.io/model';
const DEFAULT_REPLICAS = 2;
const DEFAULT_CPU_UTILIZATION = 70;
/** A Service name is a DNS-1035 label: it must start with a letter. */
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A model server: Deployment, Service, HorizontalPodAutoscaler (or a fixed replica count),
 * PodDisruptionBudget and NetworkPolicy, serving a model's approved versions from a
 * `ModelRegistry`. Pods take traffic only once a ready version exists, roll without ever
 * dropping below the desired ready replicas, and meet the "restricted" Pod Security Standard.
 * Nothing references a pipeline Job or the workspace: deleting them leaves serving intact.
 */
export class ModelServer extends Construct implements IPromotionListener {
  /** Name of the Deployment, Service and the other objects. */
  public readonly name: string;
  /** The model it serves: its folder in the registry. */
  public readonly servedModel: string;
  /**
   * Its Deployments that follow the latest version but load it only at start (any image):
   * a promotion restarts them.
   */
  private readonly restartedOnPromotion: string[] = [];
  /** The port clients call on the Service. */
  public readonly port: number;
  /** Trade-offs worth knowing, printed at synth. */
  public readonly warnings: string[] = [];

  public constructor(scope: Construct, id: string, props: ModelServerProps) {
    super(scope, id);
    const fail = (message: string): never => {
      throw new Error(`[${this.node.path}] ${message}`);
    };
    this.name = props.name ?? id;
    if (this.name.length > 63 || !DNS_1035.test(this.name)) {
      fail(`server name '${this.name}' is not a valid Service name: use at most 63 lowercase letters, digits and '-', `
        + 'starting with a letter and ending with a letter or digit; set name or rename the construct');
    }
    const modelProblem = dnsLabelProblem(props.model);
    if (modelProblem) fail(`model '${props.model}' is not a valid model name: ${modelProblem}`);
    const registryProblem = props.registry.problem();
    if (registryProblem) fail(registryProblem);
    const runtimeProblem = props.runtime.problem();
    if (runtimeProblem) fail(runtimeProblem);
    if (props.split) {
      const splitProblem = props.split.problem(props.version);
      if (splitProblem) fail(splitProblem);
      const longest = Math.max(...props.split.tracks.map((t) => Math.max(t.suffix.length, t.track.length + 1)));
      if (this.name.length + longest > 63) {
        fail(`server name '${this.name}' has ${this.name.length} characters, and a split names objects '${this.name}-${props.split.tracks[1].track}'; `
          + `use at most ${63 - longest} characters: set name or rename the construct`);
      }
    }
    if (props.trafficSplit) {
      if (!props.split) fail('trafficSplit is set but there is no split to route: add split (ServingSplit.canary or ServingSplit.abTest) or remove trafficSplit');
      const trafficProblem = props.trafficSplit.problem();
      if (trafficProblem) fail(trafficProblem);
    }
    if (props.version !== undefined && !isWholeNumberIn(props.version, 0, Number.MAX_SAFE_INTEGER)) {
      fail(`'version' must be a whole, non-negative number (a version folder of the registry), got ${shown(props.version)}`);
    }
    const modelPath = props.registry.modelPath(props.model);
    const runtime = props.runtime.containerFor(props.model, modelPath, props.version, props.metrics?.port);
    const imageProblem = imageReferenceProblem(runtime.image);
    if (imageProblem) fail(imageProblem);
    this.port = runtime.port;
    const ports = [['serving port', runtime.port], ...(props.metrics ? [['metrics.port', props.metrics.port]] : [])] as const;
    for (const [what, port] of ports) {
      if (!isWholeNumberIn(port, 1, 65535)) fail(`${what} must be a whole number from 1 to 65535, got ${shown(port)}`);
    }
    if (props.metrics && props.metrics.port === runtime.port) {
      fail(`metrics.port ${props.metrics.port} is also the serving port; Prometheus and clients need separate ports, `
        + 'choose another metrics port or leave metrics out');
    }
    if (runtime.probePort !== runtime.port && runtime.probePort !== props.metrics?.port) {
      fail(`probes call port ${shown(runtime.probePort)}, which the server does not expose (serving port ${runtime.port}`
        + `${props.metrics ? `, metrics port ${props.metrics.port}` : ''}); probe the serving port or the metrics port`);
    }
    const security = resolvePodSecurity(props.security, fail);
    const replicas = this.checkReplicas(props, fail);
    const resources = resolveResources(props.resources);
    for (const problem of checkResources(resources)) fail(problem);
    const gpuProblem = props.gpu?.problem();
    if (gpuProblem) fail(gpuProblem);
    const utilityImage = props.utilityImage ?? DEFAULT_COORDINATOR_IMAGE;
    const utilityProblem = imageReferenceProblem(utilityImage);
    if (utilityProblem) fail(`utilityImage: ${utilityProblem}`);
    if (props.registry.access === RegistryAccess.READ_WRITE_ONCE && replicas.max > 1) {
      this.warnings.push(`registry claim '${props.registry.claimName}' is ReadWriteOnce and up to ${replicas.max} replicas may land on `
        + 'several nodes: pods on a second node stay in ContainerCreating (Multi-Attach error); use a ReadWriteMany or ReadOnlyMany claim, '
        + 'or keep the replicas on one node with a nodeSelector');
    }
    printWarningsAtSynth(this, this.warnings);

    const labels = { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/component': 'model-server', [SERVER_LABEL]: this.name };
    const selector = { [SERVER_LABEL]: this.name };
    const quantities = toQuantities(resources);
    const requests: Record<string, string> = { ...quantities.requests };
    const limits: Record<string, string> = { ...quantities.limits };
    if (props.gpu) {
      // Extended resources cannot be overcommitted: request and limit must be equal.
      requests[props.gpu.resourceName] = String(props.gpu.count);
      limits[props.gpu.resourceName] = String(props.gpu.count);
    }
    const containerPorts: ServerPort[] = [{ name: 'http', containerPort: runtime.port, protocol: 'TCP' }];
    if (props.metrics) containerPorts.push({ name: 'metrics', containerPort: props.metrics.port, protocol: 'TCP' });
    const podAnnotations = props.metrics ? {
      'prometheus.io/scrape': 'true', 'prometheus.io/port': String(props.metrics.port), 'prometheus.io/path': props.metrics.path ?? '/metrics',
    } : undefined;

    const { tracks, warning } = serverTracks(this.name, props, replicas);
    if (warning) this.warnings.push(warning);
    this.servedModel = props.model;
    for (const track of tracks) {
      const follows = props.runtime.containerFor(props.model, modelPath, track.version, props.metrics?.port).followsNewVersions;
      if (track.version === undefined && !follows) this.restartedOnPromotion.push(track.deployment);
    }
    for (const [i, track] of tracks.entries()) {
      renderServerDeployment(this, i === 0 ? 'Deployment' : `${track.track}-Deployment`, {
        name: track.deployment,
        model: props.model,
        modelPath,
        version: track.version,
        registry: props.registry,
        runtime: props.runtime.containerFor(props.model, modelPath, track.version, props.metrics?.port),
        labels,
        track: props.split ? track.track : undefined,
        replicas: props.autoscaling ? undefined : track.replicas.min,
        ports: containerPorts,
        requests,
        limits,
        security,
        utilityImage,
        podAnnotations,
        modelLabel: MODEL_LABEL,
      });
    }
    const servicePorts = containerPorts.map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name, protocol: 'TCP' }));
    new ApiObject(this, 'Service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: this.name, labels,
        annotations: props.split ? { [SPLIT_ANNOTATION]: splitSummary(tracks, !!props.autoscaling, !!props.trafficSplit?.gateway) } : undefined,
      },
      spec: { type: props.serviceType ?? 'ClusterIP', selector, ports: servicePorts },
    });
    if (props.split && props.trafficSplit?.gateway) {
      for (const track of tracks) {
        new ApiObject(this, `${track.track}-Service`, {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: `${this.name}-${track.track}`, labels: { ...labels, [TRACK_LABEL]: track.track } },
          spec: { type: 'ClusterIP', selector: { [DEPLOYMENT_LABEL]: track.deployment }, ports: servicePorts },
        });
      }
      renderHttpRoute(this, 'Route', {
        name: this.name,
        labels,
        gateway: props.trafficSplit.gateway,
        port: runtime.port,
        backends: tracks.map((t) => ({ service: `${this.name}-${t.track}`, weight: t.share })),
      });
    }
    if (props.autoscaling) {
      for (const [i, track] of tracks.entries()) {
        new ApiObject(this, i === 0 ? 'Autoscaler' : `${track.track}-Autoscaler`, {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: track.deployment, labels },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: track.deployment },
            minReplicas: track.replicas.min,
            maxReplicas: track.replicas.max,
            metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: props.autoscaling.cpuUtilization ?? DEFAULT_CPU_UTILIZATION } } }],
          },
        });
      }
    }
    new ApiObject(this, 'DisruptionBudget', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: this.name, labels },
      spec: {
        selector: { matchLabels: selector },
        ...(props.minAvailable !== undefined ? { minAvailable: props.minAvailable } : { maxUnavailable: 1 }),
        // Pods that are not ready (no version yet) serve nothing: a drain may evict them.
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
    new ApiObject(this, 'NetworkPolicy', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: this.name, labels },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: [{ ports: containerPorts.map((p) => ({ protocol: 'TCP', port: p.containerPort })) }],
      },
    });
  }

  /**
   * What a promotion of its model runs: `kubectl rollout restart` of each Deployment that
   * follows the latest version but loads it only at start (any image). TensorFlow Serving and
   * Triton poll their folder, MLServer's reloader calls its load API, and a pinned version
   * (a rollback, a split's tracks) stays: none of them needs anything.
   */
  public promotionHooks(): PromotionHook[] {
    return this.restartedOnPromotion.flatMap((deployment) => PromotionHooks.rolloutRestart(deployment).promotionHooks());
  }

  /** The replica bounds, checked against each other and the disruption budget. */
  private checkReplicas(props: ModelServerProps, fail: (message: string) => never): { min: number; max: number } {
    if (props.autoscaling && props.replicas !== undefined) {
      fail('replicas and autoscaling are both set; the autoscaler chooses the replica count: remove replicas');
    }
    let min: number;
    let max: number;
    if (props.autoscaling) {
      const { minReplicas, maxReplicas, cpuUtilization } = props.autoscaling;
      if (!isWholeNumberIn(minReplicas, 1, 10_000)) fail(`'autoscaling.minReplicas' must be a whole number from 1 to 10000, got ${shown(minReplicas)}`);
      if (!isWholeNumberIn(maxReplicas, 1, 10_000)) fail(`'autoscaling.maxReplicas' must be a whole number from 1 to 10000, got ${shown(maxReplicas)}`);
      if (maxReplicas < minReplicas) {
        fail(`'autoscaling.maxReplicas' (${maxReplicas}) is below 'autoscaling.minReplicas' (${minReplicas}); swap them`);
      }
      if (cpuUtilization !== undefined && !isWholeNumberIn(cpuUtilization, 1, 1000)) {
        fail(`'autoscaling.cpuUtilization' must be a whole percentage of the cpu request from 1 to 1000, got ${shown(cpuUtilization)}`);
      }
      [min, max] = [minReplicas, maxReplicas];
    } else {
      const replicas = props.replicas ?? DEFAULT_REPLICAS;
      if (!isWholeNumberIn(replicas, 1, 10_000)) fail(`'replicas' must be a whole number from 1 to 10000, got ${shown(replicas)}`);
      [min, max] = [replicas, replicas];
    }
    if (props.minAvailable !== undefined) {
      if (!isWholeNumberIn(props.minAvailable, 0, 10_000)) fail(`'minAvailable' must be a whole number from 0 to 10000, got ${shown(props.minAvailable)}`);
      if (min < props.minAvailable) {
        const what = props.autoscaling ? '\'autoscaling.minReplicas\'' : '\'replicas\'';
        fail(`${what} (${min}) is below the disruption budget's minAvailable (${props.minAvailable}): no pod could ever be evicted `
          + `and node drains would hang; raise ${what} or lower minAvailable`);
      }
    }
    return { min, max };
  }
}
