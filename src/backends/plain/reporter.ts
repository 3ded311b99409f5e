import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { TOKEN_DIR } from '../../library-containers';
import { shortHash } from '../../model/names';
import type { Pipeline } from '../../model/pipeline';
import type * as k8s from './k8s-types';
import { lazilyNamedObject } from './lazy-named';
import { RUN_HASH_PLACEHOLDER } from './scheduled-run';

/** How long a projected token lives; the kubelet refreshes it at 80% of that. */
const TOKEN_SECONDS = 3600;

const RBAC = 'rbac.authorization.k8s.io';

/**
 * The identity of library containers that report back on their own Job: a gate writing its
 * verdict (`mlops.cdk8s.io/verdict`), a step reporting small values (`mlops.cdk8s.io/values`).
 *
 * One ServiceAccount per pipeline, allowed exactly `get` and `patch` on the reporting Jobs,
 * by name (`kubectl patch` GETs the object first). The pod mounts no token
 * (`automountServiceAccountToken: false`); only the container that reports gets one,
 * through a projected volume (`tokenVolume()` + `tokenMount()`), so a user's container in
 * the same pod cannot call the API.
 *
 * Where the grant lives depends on when the Job names are known:
 * - a pipeline run by `kubectl apply`: a Role and RoleBinding in the YAML, versioned like
 *   the coordinator's, so applying a changed pipeline mid-run leaves the old run's grant;
 * - a pipeline with runs (schedule or on demand): the Jobs are named per run, so the YAML
 *   holds no Role; `runGrants()` are templates the run prelude creates with the run's Jobs,
 *   owned by the run's coordinator Job, so each run's grant names that run's Jobs and goes
 *   away with the run (docs/schedules.md, "Least privilege").
 */
export class Reporter extends Construct {
  /** The ServiceAccount's name: `<pipeline>-reporter`. */
  public readonly serviceAccountName: string;
  private readonly pipeline: Pipeline;

  /**
   * @param jobNames the names of the Jobs whose pods report on their own Job, as the plan
   * has them (with the run placeholders in a pipeline with runs); read at synthesis
   */
  public constructor(pipeline: Pipeline, id: string, private readonly jobNames: () => string[]) {
    super(pipeline, id);
    this.pipeline = pipeline;
    this.serviceAccountName = reporterAccountName(pipeline);
    new ApiObject(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: this.serviceAccountName, labels: REPORTER_LABELS },
      automountServiceAccountToken: false,
    });
    if (pipeline.runs) return;
    const name = () => `${pipeline.pipelineName}-reporter-${shortHash(this.jobNames())}`;
    lazilyNamedObject(this, 'Role', {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { labels: REPORTER_LABELS },
      rules: Lazy.any({ produce: () => this.rules() }),
    }, name);
    lazilyNamedObject(this, 'RoleBinding', {
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { labels: REPORTER_LABELS },
      roleRef: { apiGroup: RBAC, kind: 'Role', name: Lazy.any({ produce: name }) },
      subjects: this.subjects(),
    }, name);
  }

  /**
   * For a pipeline with runs: the Role and RoleBinding one run needs, named
   * `<pipeline>-reporter-<run hash>` with the run placeholders the prelude fills in. Role
   * first: the API server checks a new binding against the rules of its Role, which must exist.
   */
  public runGrants(): Array<Record<string, unknown>> {
    const name = `${this.pipeline.pipelineName}-reporter-${RUN_HASH_PLACEHOLDER}`;
    const metadata = { name, namespace: this.pipeline.namespace, labels: { ...this.pipeline.labels, ...REPORTER_LABELS } };
    return [
      { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata, rules: this.rules() },
      { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata, roleRef: { apiGroup: RBAC, kind: 'Role', name }, subjects: this.subjects() },
    ];
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

  private rules(): k8s.PolicyRule[] {
    return [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: this.jobNames() }];
  }

  private subjects(): Array<Record<string, string>> {
    return [{ kind: 'ServiceAccount', name: this.serviceAccountName, namespace: this.pipeline.namespace }];
  }
}

const REPORTER_LABELS = { 'app.kubernetes.io/component': 'reporter' };

/** The reporter's ServiceAccount name: `<pipeline>-reporter`. */
export function reporterAccountName(pipeline: Pipeline): string {
  return `${pipeline.pipelineName}-reporter`;
}
