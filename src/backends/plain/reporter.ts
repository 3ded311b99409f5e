import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { shortHash } from '../../model/names';
import type { Pipeline } from '../../model/pipeline';
import type * as k8s from './k8s-types';
import { lazilyNamedObject } from './lazy-named';

/** Where kubectl's in-cluster config looks for the token, CA and namespace. */
export const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How long a projected token lives; the kubelet refreshes it at 80% of that. */
const TOKEN_SECONDS = 3600;

/**
 * The identity of pods that report back on their own Job: a gate writing its verdict
 * (`mlops.cdk8s.io/verdict`), a step reporting small values (`mlops.cdk8s.io/values`).
 *
 * One ServiceAccount per pipeline whose Role grants exactly `get` and `patch` on the
 * reporting Jobs, by name (`kubectl patch` GETs the object first). The pod mounts no token
 * (`automountServiceAccountToken: false`); only the container that reports gets one,
 * through a projected volume (`tokenVolume()` + `tokenMount()`), so a user's container in
 * the same pod cannot call the API. Role and binding are versioned like the coordinator's:
 * applying a changed pipeline mid-run leaves the old run's grants in place.
 */
export class Reporter extends Construct {
  /** The ServiceAccount's name: `<pipeline>-reporter`. */
  public readonly serviceAccountName: string;

  public constructor(pipeline: Pipeline, id: string, private readonly jobNames: () => string[]) {
    super(pipeline, id);
    this.serviceAccountName = reporterAccountName(pipeline);
    const labels = { 'app.kubernetes.io/component': 'reporter' };
    new ApiObject(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: this.serviceAccountName, labels },
      automountServiceAccountToken: false,
    });
    const name = () => `${pipeline.pipelineName}-reporter-${shortHash(this.jobNames())}`;
    lazilyNamedObject(this, 'Role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { labels },
      rules: Lazy.any({
        produce: (): k8s.PolicyRule[] => [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: this.jobNames() }],
      }),
    }, name);
    lazilyNamedObject(this, 'RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: Lazy.any({ produce: name }) },
      subjects: [{ kind: 'ServiceAccount', name: this.serviceAccountName, namespace: pipeline.namespace }],
    }, name);
  }

  /** The volume holding a short-lived token of the reporter, the cluster CA and the namespace. */
  public tokenVolume(): k8s.Volume {
    return {
      name: 'reporter-token',
      projected: {
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: TOKEN_SECONDS } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    };
  }

  /** Where the reporting container mounts it: the path kubectl's in-cluster config reads. */
  public tokenMount(): k8s.VolumeMount {
    return { name: 'reporter-token', mountPath: TOKEN_DIR, readOnly: true };
  }
}

/** The reporter's ServiceAccount name: `<pipeline>-reporter`. */
export function reporterAccountName(pipeline: Pipeline): string {
  return `${pipeline.pipelineName}-reporter`;
}
