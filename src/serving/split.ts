import { dnsLabelProblem, dnsSubdomainProblem } from '../model/names';
import { isWholeNumberIn, shown } from '../model/values';

/** A canary: the stable version (the server's `version`) keeps most traffic, `version` gets `share` percent. */
export interface CanaryOptions {
  /** The version on trial: a version folder of the registry. */
  readonly version: number;
  /** Its share of traffic in percent, from 1 to 99. */
  readonly share: number;
}

/** An A/B test of two named versions. */
export interface AbTestOptions {
  /** Version A: served by the Deployment named after the server. */
  readonly a: number;
  /** Version B: served by `<name>-b`. */
  readonly b: number;
  /**
   * B's share of traffic in percent, from 1 to 99.
   * @default 50
   */
  readonly shareOfB?: number;
}

/** One of the two groups of pods of a split. */
export interface SplitTrack {
  /** `stable`, `canary`, `a` or `b`: the pods' `mlops.cdk8s.io/track` label. */
  readonly track: string;
  /** Appended to the server's name for this track's Deployment ('' for the first track). */
  readonly suffix: string;
  /** The version it serves; undefined for a canary's stable track, which serves the server's `version`. */
  readonly version?: number;
}

/**
 * Two versions of a model behind one Service. Each version gets its own Deployment (and
 * autoscaler); the Service selects both, so by default the split is the ratio of their
 * replicas: per pod, not per request, and it drifts when autoscalers scale the two
 * Deployments apart. `TrafficSplit.httpRoute` gives exact per-request weights.
 */
export class ServingSplit {
  /**
   * `share` percent to `version`, the rest to the server's `version` (which must be set:
   * a stable track following the latest would move to the canary's version by itself).
   * Promote by setting the server's `version` to the canary's and removing `split`.
   */
  public static canary(options: CanaryOptions): ServingSplit {
    return new ServingSplit('canary', options.share,
      [{ track: 'stable', suffix: '' }, { track: 'canary', suffix: '-canary', version: options.version }]);
  }

  /** Versions `a` and `b` side by side, `shareOfB` percent to `b`. The server's `version` must be unset. */
  public static abTest(options: AbTestOptions): ServingSplit {
    return new ServingSplit('abTest', options.shareOfB ?? 50,
      [{ track: 'a', suffix: '', version: options.a }, { track: 'b', suffix: '-b', version: options.b }]);
  }

  private constructor(
    /** Which kind of split. */
    public readonly kind: 'canary' | 'abTest',
    /** The second track's share of traffic, in percent. */
    public readonly share: number,
    /** The two tracks, the one named after the server first. */
    public readonly tracks: readonly [SplitTrack, SplitTrack],
  ) {}

  /** Why this split cannot be rendered next to the server's pinned `version`, or undefined. */
  public problem(serverVersion: number | undefined): string | undefined {
    const [first, second] = this.tracks;
    if (!isWholeNumberIn(this.share, 1, 99)) {
      return `split share must be a whole percentage from 1 to 99 (the ${second.track} version's share of traffic), got ${shown(this.share)}; `
        + 'to send all traffic to one version, remove split and set version';
    }
    for (const track of this.tracks) {
      if (track.version !== undefined && !isWholeNumberIn(track.version, 0, Number.MAX_SAFE_INTEGER)) {
        return `split ${track.track} version must be a whole, non-negative number (a version folder of the registry), got ${shown(track.version)}`;
      }
    }
    if (this.kind === 'canary' && serverVersion === undefined) {
      return `a canary needs the stable version pinned: set version to the version serving now (the canary, ${second.version}, `
        + 'would otherwise become the latest and take over the stable pods too)';
    }
    if (this.kind === 'abTest' && serverVersion !== undefined) {
      return `version ${serverVersion} and an A/B split both choose versions: remove version, the split serves versions ${first.version} and ${second.version}`;
    }
    const firstVersion = first.version ?? serverVersion;
    if (firstVersion === second.version) {
      return `the split names version ${second.version} for both ${first.track} and ${second.track}; a split needs two different versions`;
    }
    return undefined;
  }
}

/** The Gateway an HTTPRoute attaches to. */
export interface GatewayReference {
  /** The Gateway's name. */
  readonly name: string;
  /**
   * The Gateway's namespace.
   * @default - the route's namespace
   */
  readonly namespace?: string;
  /**
   * A listener of the Gateway.
   * @default - every listener that admits the route
   */
  readonly sectionName?: string;
}

/** Options of an HTTPRoute split. */
export interface HttpRouteSplitOptions {
  /** The Gateway (installed separately, with its controller) the route attaches to. */
  readonly gateway: GatewayReference;
}

/**
 * How a split's share reaches requests. `replicaRatio()` (the default) needs nothing but
 * core Kubernetes; `httpRoute({ gateway })` adds a Gateway API `HTTPRoute` weighing one
 * Service per version exactly, and needs the Gateway API CRDs and a gateway controller.
 */
export class TrafficSplit {
  /** The share as a ratio of pods behind the one Service: per pod, not per request. */
  public static replicaRatio(): TrafficSplit {
    return new TrafficSplit(undefined);
  }

  /** Exact per-request weights through a Gateway API HTTPRoute (gateway.networking.k8s.io/v1, a CRD). */
  public static httpRoute(options: HttpRouteSplitOptions): TrafficSplit {
    return new TrafficSplit(options.gateway);
  }

  private constructor(
    /** The Gateway of an HTTPRoute split; undefined for a replica ratio. */
    public readonly gateway: GatewayReference | undefined,
  ) {}

  /** Why the gateway reference is invalid, or undefined. */
  public problem(): string | undefined {
    if (!this.gateway) return undefined;
    const nameProblem = dnsSubdomainProblem(this.gateway.name);
    if (nameProblem) return `gateway name '${this.gateway.name}' is not a valid Gateway name: ${nameProblem}`;
    if (this.gateway.namespace !== undefined) {
      const problem = dnsLabelProblem(this.gateway.namespace);
      if (problem) return `gateway namespace '${this.gateway.namespace}' is not a valid namespace: ${problem}`;
    }
    if (this.gateway.sectionName !== undefined) {
      const problem = dnsSubdomainProblem(this.gateway.sectionName);
      if (problem) return `gateway sectionName '${this.gateway.sectionName}' is not a valid listener name: ${problem}`;
    }
    return undefined;
  }
}

/** Replica bounds of one track. */
export interface TrackReplicas {
  readonly min: number;
  readonly max: number;
}

/**
 * Splits replica bounds between two tracks by `share` (the second track's percent), at
 * least one pod each: the second gets `round(n * share / 100)`, the first the rest.
 */
export function splitReplicas(bounds: TrackReplicas, share: number): [TrackReplicas, TrackReplicas] {
  const second = (n: number) => Math.max(1, Math.round((n * share) / 100));
  const secondMin = second(bounds.min);
  const secondMax = Math.max(secondMin, second(bounds.max));
  const firstMin = Math.max(1, bounds.min - secondMin);
  const firstMax = Math.max(firstMin, bounds.max - secondMax);
  return [{ min: firstMin, max: firstMax }, { min: secondMin, max: secondMax }];
}

/** The fewest pods whose ratio gives `share` percent exactly. */
export function replicasForShare(share: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return 100 / gcd(share, 100);
}
