import type * as k8s from './k8s-types';
import { LIBRARY_SCRIPT_DIR } from '../../library-containers';
import { DEPENDS_ON_ANNOTATION, EXTERNAL_REFS_ANNOTATION, STEP_LABEL } from '../../conventions';
import type { Pipeline } from '../../model/pipeline';
import { PipelineRuns } from '../../model/schedule';
import type { PlannedStep } from './plan';
import { WORKSPACE_MOUNT } from './step-job';

/**
 * Placeholders in the run templates that the run prelude (`assets/start-run.sh`) replaces
 * when a run starts: the run id (its coordinator Job's name) and 8 hex digits of its hash.
 */
export const RUN_PLACEHOLDER = '@@run@@';
export const RUN_HASH_PLACEHOLDER = '@@run-hash@@';

/** How a run's coordinator starts: the prelude, which then runs coordinate.sh. */
export const RUN_COORDINATOR_COMMAND: readonly string[] = ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/start-run.sh`];

/** Where the coordinator finds the run templates. */
const TEMPLATES_PATH = `${LIBRARY_SCRIPT_DIR}/jobs`;

/**
 * An unused schedule for a pipeline run only on demand: its CronJob is suspended, so it never
 * fires; it exists to hold the run template for `kubectl create job --from=cronjob/...`.
 */
const ON_DEMAND_SCHEDULE = '@yearly';

/**
 * A step's folder in one run: `<mount>/<pipeline>/runs/<run>/<step>`, so one run never
 * reads or overwrites another's files, and retention can delete a run's folder whole.
 */
export function runStepDirectory(pipelineName: string, stepName: string): string {
  return `${WORKSPACE_MOUNT}/${pipelineName}/runs/${RUN_PLACEHOLDER}/${stepName}`;
}

/** A node of a run's plan: a step, or a node the backend adds (pruning old runs). */
export interface RunNode extends Pick<PlannedStep, 'jobName' | 'dependsOn' | 'externalRefs' | 'jobSpec'> {
  readonly stepName: string;
}

/** A planned step as a node of the run. */
export function runNode(p: PlannedStep): RunNode {
  return { stepName: p.step.stepName, jobName: p.jobName, dependsOn: p.dependsOn, externalRefs: p.externalRefs, jobSpec: p.jobSpec };
}

/** Plan lines (`<step>\t<job>\t<upstream or ->`) of nodes the backend adds after the steps. */
export function planLines(nodes: readonly RunNode[]): string {
  return nodes.map((n) => `${n.stepName}\t${n.jobName}\t${n.dependsOn.join(',') || '-'}\n`).join('');
}

/**
 * The ConfigMap value the prelude reads: the objects every run creates, as JSON.
 * `run` holds the Jobs of one run (the prelude names them, labels them with the run id and
 * makes the run's coordinator their owner); `shared` the Jobs reused across runs, created
 * as they are, with no owner, so deleting a run leaves them for the next; `grants` (only
 * when some Job reports on itself) the run's Role and RoleBinding (`Reporter.runGrants`),
 * labelled and owned like the run's Jobs.
 */
export function runTemplates(pipeline: Pipeline, run: readonly RunNode[], shared: readonly RunNode[], grants: ReadonlyArray<Record<string, unknown>> = []): string {
  const job = (p: RunNode) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: p.jobName,
      namespace: pipeline.namespace,
      labels: { ...pipeline.labels, [STEP_LABEL]: p.stepName, 'app.kubernetes.io/component': 'step' },
      annotations: withoutEmpty({
        [DEPENDS_ON_ANNOTATION]: p.dependsOn.join(','),
        [EXTERNAL_REFS_ANNOTATION]: p.externalRefs.join(','),
      }),
    },
    spec: p.jobSpec,
  });
  return JSON.stringify({ run: run.map(job), shared: shared.map(job), ...(grants.length > 0 && { grants }) });
}

/** What a run's coordinator adds to its environment: who it is, read from its pod's labels. */
export function runCoordinatorEnv(): k8s.EnvVar[] {
  // The Job controller labels every pod with its Job's name and uid (Kubernetes >= 1.27).
  const label = (key: string) => ({ fieldRef: { fieldPath: `metadata.labels['${key}']` } });
  return [
    { name: 'MLOPS_SELF', valueFrom: label('batch.kubernetes.io/job-name') },
    { name: 'MLOPS_RUN_UID', valueFrom: label('batch.kubernetes.io/controller-uid') },
    { name: 'MLOPS_RUN_TEMPLATES', value: TEMPLATES_PATH },
  ];
}

/**
 * RBAC of a run's coordinator. Its own Job and its step Jobs are named when the run starts,
 * so neither `create` nor `patch` can be limited by `resourceNames`: they cover every Job
 * of the namespace (see docs/schedules.md, "Least privilege"). With `grants`, it also
 * creates each run's reporter Role and RoleBinding: the API server lets it grant only what
 * it holds itself (pkg/registry/rbac/validation/rule.go, ConfirmNoEscalation), `get` and
 * `patch` on Jobs, so this adds no permission it does not have already.
 */
export function runCoordinatorRules(grants: boolean): k8s.PolicyRule[] {
  return [
    // get: kubectl patch reads the object before it patches it (cli-runtime's resource builder).
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'get', 'create', 'patch'] },
    ...(grants ? [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create'] }] : []),
  ];
}

/** The CronJob's `spec`: the schedule, and the coordinator Job each run starts with. */
export function cronJobSpec(runs: PipelineRuns, jobTemplate: { metadata: Record<string, unknown>; spec: unknown }): Record<string, unknown> {
  return {
    schedule: runs.cron ?? ON_DEMAND_SCHEDULE,
    suspend: runs.cron === undefined ? true : undefined,
    timeZone: runs.timeZone,
    concurrencyPolicy: runs.concurrency,
    startingDeadlineSeconds: runs.startingDeadlineSeconds,
    successfulJobsHistoryLimit: runs.successfulRunsToKeep,
    failedJobsHistoryLimit: runs.failedRunsToKeep,
    jobTemplate,
  };
}

function withoutEmpty(record: Record<string, string>): Record<string, string> | undefined {
  const entries = Object.entries(record).filter(([, v]) => v !== '');
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** pkg/apis/core/validation/validation.go ValidateConfigMap: keys and values together at most 1 MiB. */
const MAX_CONFIG_MAP_BYTES = 1024 * 1024;

/** Why the coordinator ConfigMap of a pipeline with runs is too big for Kubernetes, or undefined. */
export function runTemplatesProblem(bytes: number, steps: number): string | undefined {
  if (bytes <= MAX_CONFIG_MAP_BYTES) return undefined;
  return `the coordinator ConfigMap holds the Job template of every step of a run: ${Math.ceil(bytes / 1024)} KiB for ${steps} steps, `
    + `more than the 1024 KiB Kubernetes allows in a ConfigMap; split the pipeline into smaller pipelines, or leave out 'schedule' and 'onDemand'`;
}
