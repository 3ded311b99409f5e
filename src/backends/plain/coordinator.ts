import { ApiObject, Duration, Lazy } from 'cdk8s';
import { LIBRARY_SCRIPT_DIR } from '../../library-containers';
import type * as k8s from './k8s-types';
import { Construct } from 'constructs';
import { COORDINATOR_ROLE, COORDINATOR_SCRIPT_VOLUME, PIPELINE_LABEL, ROLE_LABEL } from '../../conventions';
import { shortHash } from '../../model/names';
import type { Pipeline } from '../../model/pipeline';
import { coordinatorScript, runPreludeScript } from './assets';
import { lazilyNamedObject } from './lazy-named';
import { planText, PlannedStep } from './plan';
import { cronJobSpec, RUN_COORDINATOR_COMMAND, runCoordinatorEnv, runCoordinatorRules } from './scheduled-run';
import { containerSecurityContext, COORDINATOR_SECURITY, podSecurityContext } from './security';

/** Exit code of the script when the run ended with a failed or skipped step. */
export const EXIT_PIPELINE_FAILED = 3;
/** Exit code of the script when no step failed but a gate rejected its model. */
export const EXIT_PIPELINE_REJECTED = 4;

/** Exit code of the script after repeated Forbidden or NotFound answers: retrying cannot help. */
export const EXIT_PERMANENT_API_ERROR = 5;

/** How the coordinator container starts: bash on the script mounted from the ConfigMap. */
export const COORDINATOR_COMMAND: readonly string[] = ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/coordinate.sh`];

/** How long the coordinator Job outlives the run deadline, so it can stop and mark steps itself. */
const DEADLINE_GRACE_SECONDS = 300;

/** Props of the coordinator. */
export interface CoordinatorProps {
  /** Image with bash, jq, coreutils and kubectl. */
  readonly image: string;
  /** Time between two lists of the pipeline's Jobs. */
  readonly pollInterval: Duration;
  /** The planned steps; read at synthesis. */
  readonly plan: () => readonly PlannedStep[];
  /**
   * The run templates (`runTemplates`) of a pipeline with a schedule or run on demand: the
   * coordinator then is the job template of a CronJob and creates each run's Jobs itself.
   */
  readonly runTemplates?: () => string;
  /** Plan lines of nodes the backend adds after the steps (`planLines`). */
  readonly planTail?: () => string;
  /** Whether each run creates its own Role and RoleBinding (`Reporter.runGrants`); read at synthesis. */
  readonly runGrants?: () => boolean;
}

/**
 * The run-time ordering mechanism: one small Job that releases each suspended step Job
 * once its upstream Jobs are complete, with the least RBAC that lets it do so.
 */
export class Coordinator extends Construct {
  /**
   * The coordinator Job, which step Jobs are ordered before in the YAML; for a pipeline
   * with runs, the CronJob whose job template it is.
   */
  public readonly job: ApiObject;
  private readonly pipeline: Pipeline;

  public constructor(pipeline: Pipeline, id: string, private readonly props: CoordinatorProps) {
    super(pipeline, id);
    this.pipeline = pipeline;
    const name = `${pipeline.pipelineName}-coordinator`;
    const labels = { [ROLE_LABEL]: COORDINATOR_ROLE, 'app.kubernetes.io/component': 'coordinator' };

    new ApiObject(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, labels },
      // Only the coordinator pod mounts the token, and it opts in itself.
      automountServiceAccountToken: false,
    });
    // Role and binding are versioned like the Job: applying a changed pipeline mid-run adds
    // the new coordinator's grants and leaves the old coordinator's in place, so the old run
    // can still patch its own Jobs and finish.
    const versionedName = () => this.versionedName();
    lazilyNamedObject(this, 'Role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { labels },
      rules: Lazy.any({ produce: () => this.rules() }),
    }, versionedName);
    lazilyNamedObject(this, 'RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: Lazy.any({ produce: versionedName }) },
      subjects: [{ kind: 'ServiceAccount', name, namespace: pipeline.namespace }],
    }, versionedName);
    const configMap = lazilyNamedObject(this, 'Script', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { labels },
      data: Lazy.any({ produce: () => this.configMapData() }),
    }, versionedName);
    this.job = this.props.runTemplates
      // A CronJob's name is its runs' prefix (`<pipeline>-<unix minutes>`), so it stays unversioned.
      ? new ApiObject(this, 'Resource', {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: pipeline.pipelineName, labels },
        spec: Lazy.any({
          produce: () => cronJobSpec(pipeline.runs!, {
            // A CronJob's Jobs get these labels, not the chart's: the coordinator lists its pipeline's Jobs by them.
            metadata: { labels: { ...pipeline.labels, ...labels } },
            spec: this.jobSpec(name, labels),
          }),
        }),
      })
      : lazilyNamedObject(this, 'Resource', {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { labels },
        spec: Lazy.any({ produce: () => this.jobSpec(name, labels) }),
      }, versionedName);
    this.job.addDependency(configMap);
  }

  /** `<pipeline>-coordinator-<hash>`: a changed plan or setting is a new Job. */
  private versionedName(): string {
    const hash = shortHash({
      plan: this.planText(),
      script: coordinatorScript(),
      image: this.props.image,
      poll: this.props.pollInterval.toSeconds(),
      deadline: this.pipeline.runDeadline.toSeconds(),
      maxParallel: this.pipeline.maxParallel,
      ttl: this.pipeline.ttlAfterFinished?.toSeconds(),
      runTemplates: this.props.runTemplates?.(),
      prelude: this.props.runTemplates ? runPreludeScript() : undefined,
    });
    return `${this.pipeline.pipelineName}-coordinator-${hash}`;
  }

  /**
   * kubectl and jq both hold the whole Job list (a few KiB per Job) in memory at once, so
   * the limit grows with the pipeline: 256Mi up to 2048 steps, then 128Ki per step.
   */
  private memoryLimitMi(): number {
    return Math.max(256, Math.ceil(this.props.plan().length / 8));
  }

  private planText(): string {
    return planText(this.props.plan()) + (this.props.planTail?.() ?? '');
  }

  /** The size of the ConfigMap's data as the API server counts it against its 1 MiB limit: keys plus values. */
  public configMapBytes(): number {
    return Object.entries(this.configMapData()).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  }

  private configMapData(): Record<string, string> {
    const data: Record<string, string> = { 'coordinate.sh': coordinatorScript(), 'plan': this.planText() };
    if (this.props.runTemplates) {
      data['start-run.sh'] = runPreludeScript();
      data.jobs = this.props.runTemplates();
    }
    return data;
  }

  private rules(): k8s.PolicyRule[] {
    if (this.props.runTemplates) return runCoordinatorRules(this.props.runGrants?.() ?? false);
    const names = [...this.props.plan().map((s) => s.jobName), this.versionedName()];
    return [
      // Listing cannot be narrowed by name; the script lists only its pipeline's label.
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
      // `kubectl patch job NAME` GETs the Job before it PATCHes it (cli-runtime's resource
      // builder fetches the object first), so patch alone is refused on the GET.
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: names },
    ];
  }

  private jobSpec(serviceAccountName: string, labels: Record<string, string>): k8s.JobSpec {
    const runs = this.props.runTemplates !== undefined;
    const env: Record<string, string> = {
      MLOPS_PIPELINE: this.pipeline.pipelineName,
      // A run's coordinator learns its name when it starts (runCoordinatorEnv).
      ...(runs ? {} : { MLOPS_SELF: this.versionedName() }),
      MLOPS_PLAN: `${LIBRARY_SCRIPT_DIR}/plan`,
      MLOPS_POLL_SECONDS: String(this.props.pollInterval.toSeconds()),
      MLOPS_RUN_DEADLINE_SECONDS: String(this.pipeline.runDeadline.toSeconds()),
      MLOPS_MAX_PARALLEL: String(this.pipeline.maxParallel ?? 0),
      HOME: '/tmp',
    };
    return {
      backoffLimit: 6,
      activeDeadlineSeconds: this.pipeline.runDeadline.toSeconds() + DEADLINE_GRACE_SECONDS,
      ttlSecondsAfterFinished: this.pipeline.ttlAfterFinished?.toSeconds(),
      podFailurePolicy: {
        rules: [
          // The run itself failed or was rejected, or the API keeps refusing the coordinator (a deleted Role):
          // retrying cannot help. The 1.27 OpenAPI marks
          // onPodConditions required, so schema validators (kubeconform...) refuse a rule
          // without it; the apiserver counts len(onPodConditions) (pkg/apis/batch/validation),
          // so an empty list next to onExitCodes satisfies both.
          { action: 'FailJob', onExitCodes: { containerName: 'coordinator', operator: 'In', values: [EXIT_PIPELINE_FAILED, EXIT_PIPELINE_REJECTED, EXIT_PERMANENT_API_ERROR] }, onPodConditions: [] },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels: { ...this.pipeline.extraLabels, [PIPELINE_LABEL]: this.pipeline.pipelineName, ...labels } },
        spec: {
          serviceAccountName,
          automountServiceAccountToken: true,
          restartPolicy: 'Never',
          enableServiceLinks: false,
          securityContext: podSecurityContext(COORDINATOR_SECURITY),
          containers: [{
            name: 'coordinator',
            image: this.props.image,
            imagePullPolicy: 'IfNotPresent',
            command: runs ? [...RUN_COORDINATOR_COMMAND] : [...COORDINATOR_COMMAND],
            env: [
              { name: 'MLOPS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ...(runs ? runCoordinatorEnv() : []),
              ...Object.entries(env).map(([k, value]) => ({ name: k, value })),
            ],
            resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '500m', memory: `${this.memoryLimitMi()}Mi` } },
            securityContext: containerSecurityContext(COORDINATOR_SECURITY),
            volumeMounts: [
              { name: COORDINATOR_SCRIPT_VOLUME, mountPath: LIBRARY_SCRIPT_DIR, readOnly: true },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          }],
          volumes: [
            { name: COORDINATOR_SCRIPT_VOLUME, configMap: { name: this.versionedName() } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    };
  }
}
