import type { ModelServerProps } from './model-server-props';
import { replicasForShare, splitReplicas, TrackReplicas } from './split';

/** On a split server's Service: which version gets which share, and how. */
export const SPLIT_ANNOTATION = 'mlops.cdk8s.io/split';

/** One Deployment of a server. */
export interface Track {
  /** `stable` when unsplit; else the split's track name. */
  readonly track: string;
  /** The Deployment's name. */
  readonly deployment: string;
  /** The pinned version, or undefined for the latest. */
  readonly version: number | undefined;
  readonly replicas: TrackReplicas;
  /** Its share of traffic in percent. */
  readonly share: number;
}

/**
 * The Deployments of a server: one, or a split's two with the replica bounds divided by its
 * share, and a warning when the pods cannot make the share (too few replicas for the ratio).
 */
export function serverTracks(name: string, props: ModelServerProps, replicas: TrackReplicas): { tracks: Track[]; warning?: string } {
  if (!props.split) return { tracks: [{ track: 'stable', deployment: name, version: props.version, replicas, share: 100 }] };
  const split = props.split;
  const [first, second] = split.tracks;
  const [firstReplicas, secondReplicas] = splitReplicas(replicas, split.share);
  const tracks: Track[] = [
    { track: first.track, deployment: name + first.suffix, version: first.version ?? props.version, replicas: firstReplicas, share: 100 - split.share },
    { track: second.track, deployment: name + second.suffix, version: second.version, replicas: secondReplicas, share: split.share },
  ];
  if (props.trafficSplit?.gateway) return { tracks };
  const pods = firstReplicas.min + secondReplicas.min;
  const actual = Math.round((100 * secondReplicas.min) / pods);
  if (Math.abs(actual - split.share) <= 5) return { tracks };
  const what = props.autoscaling ? 'autoscaling.minReplicas' : 'replicas';
  return {
    tracks,
    warning: `a ${split.share}% ${second.track} share is ${secondReplicas.min} of ${pods} pods (${actual}%) as a replica ratio: `
      + `set ${what} to a multiple of ${replicasForShare(split.share)} for ${split.share}%, `
      + 'or use trafficSplit: TrafficSplit.httpRoute({ gateway }) for exact weights',
  };
}

/**
 * The split as the Service's annotation states it, e.g. `stable=12 90% (9 pods), canary=13
 * 10% (1 pod); this Service splits per pod, not per request`.
 */
export function splitSummary(tracks: readonly Track[], autoscaled: boolean, routed: boolean): string {
  const pods = (r: TrackReplicas) => (autoscaled ? `${r.min}-${r.max} pods` : `${r.min} pod${r.min === 1 ? '' : 's'}`);
  const shares = tracks.map((t) => `${t.track}=${t.version ?? 'latest'} ${t.share}% (${pods(t.replicas)})`).join(', ');
  const how = routed ? 'the HTTPRoute weighs requests exactly; this Service, for callers inside the cluster, splits per pod'
    : 'this Service splits per pod, not per request';
  return `${shares}; ${how}${autoscaled ? ', and the ratio drifts as the autoscalers scale each version on its own' : ''}`;
}
