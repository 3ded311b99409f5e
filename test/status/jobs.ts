/**
 * Job lists shaped like `kubectl get jobs -o json` prints them for a running pipeline:
 * what the plain backend applied, plus the status the Job controller and the coordinator
 * write (docs/ordering.md).
 */
export type Obj = Record<string, any>;

export const T0 = new Date('2026-11-27T06:00:00Z');
/** `T0` plus `s` seconds, as an RFC 3339 timestamp. */
export const at = (s: number) => new Date(T0.getTime() + s * 1000).toISOString().replace('.000Z', 'Z');

export interface JobState {
  after?: string[];
  /** Released by the coordinator (spec.suspend false). */
  released?: boolean;
  started?: number;
  completed?: number;
  failed?: { at: number; reason: string; message: string };
  annotations?: Record<string, string>;
  active?: number;
  created?: number;
}

export function stepJob(step: string, s: JobState = {}, pipeline = 'churn'): Obj {
  const conditions: Obj[] = [];
  if (s.completed !== undefined) conditions.push({ type: 'Complete', status: 'True', lastTransitionTime: at(s.completed) });
  if (s.failed) conditions.push({ type: 'Failed', status: 'True', reason: s.failed.reason, message: s.failed.message, lastTransitionTime: at(s.failed.at) });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `${pipeline}-${step}-0a1b2c3d`,
      namespace: 'ml',
      creationTimestamp: at(s.created ?? 0),
      labels: { 'mlops.cdk8s.io/pipeline': pipeline, 'mlops.cdk8s.io/step': step },
      annotations: { ...(s.after?.length ? { 'mlops.cdk8s.io/depends-on': s.after.join(',') } : {}), ...s.annotations },
    },
    spec: { suspend: !s.released },
    status: {
      ...(s.started !== undefined ? { startTime: at(s.started) } : {}),
      ...(s.completed !== undefined ? { completionTime: at(s.completed), succeeded: 1 } : {}),
      ...(s.active ? { active: s.active } : {}),
      ...(conditions.length ? { conditions } : {}),
    },
  };
}

export function coordinatorJob(s: { completed?: number; failed?: { at: number; exitCode: number }; ledger?: string[] } = {}): Obj {
  const conditions: Obj[] = [];
  if (s.completed !== undefined) conditions.push({ type: 'Complete', status: 'True', lastTransitionTime: at(s.completed) });
  if (s.failed) {
    conditions.push({
      type: 'Failed', status: 'True', reason: 'PodFailurePolicy', lastTransitionTime: at(s.failed.at),
      message: `Container coordinator for pod ml/churn-coordinator-9f8e7d6c-x7k2p failed with exit code ${s.failed.exitCode} matching FailJob rule at index 0`,
    });
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'churn-coordinator-9f8e7d6c',
      namespace: 'ml',
      creationTimestamp: at(0),
      labels: { 'mlops.cdk8s.io/pipeline': 'churn', 'mlops.cdk8s.io/role': 'coordinator' },
      annotations: s.ledger ? { 'mlops.cdk8s.io/completed': s.ledger.join(',') } : {},
    },
    spec: { suspend: false },
    status: { startTime: at(0), ...(conditions.length ? { conditions } : {}) },
  };
}

export const list = (...items: unknown[]) => ({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items });
