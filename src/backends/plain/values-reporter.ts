import { LIBRARY_SCRIPT_DIR, REPORTER_CONTAINER } from '../../library-containers';
import { BatchStep } from '../../model/batch-step';
import type { StepSpec } from '../../model/container-spec';
import type { GraphProblem, PipelineGraph } from '../../model/graph';
import { VALUES_DIR } from '../../model/spec-checks';
import type * as k8s from './k8s-types';
import type { Reporter } from './reporter';
import { containerSecurityContext, COORDINATOR_SECURITY } from './security';

/** Exit code of the reporter when a value is missing, of the wrong type or too large: the Job fails at once. */
export const EXIT_BAD_VALUE = 3;

const REPORTER_HOME = '/home/reporter';

/** What the reporter needs from the backend: its image, script and identity. */
export interface ValuesReporterContext {
  /** The coordinator's image: bash, jq and kubectl. */
  readonly image: string;
  /** The ConfigMap that holds `report-values.sh`. */
  readonly scriptConfigMap: string;
  readonly reporter: Reporter;
}

/**
 * Turns the pod of a step that declares values into the two-stage pod of
 * docs/control-flow.md: the step's container becomes the last init container (it runs to
 * completion first, exactly as before) and the library's reporter is the main container. The
 * reporter alone mounts a token, of the pipeline's reporter ServiceAccount, which may only
 * get and patch the reporting Jobs: the step's container cannot call the API.
 *
 * Trade-offs: the pod requests the larger of the two containers' resources (init containers
 * do not add up), and `kubectl logs` shows the step's container only because the template
 * names it as `kubectl.kubernetes.io/default-container`.
 */
export function addValuesReporter(jobSpec: k8s.JobSpec, spec: StepSpec, ctx: ValuesReporterContext): void {
  const pod = jobSpec.template.spec!;
  const step = pod.containers[0];
  step.env!.push({ name: 'MLOPS_VALUES', value: VALUES_DIR });
  step.volumeMounts!.push({ name: 'values', mountPath: VALUES_DIR });
  const types = Object.fromEntries(Object.entries(spec.values).map(([name, v]) => [name, v.type]));
  // The reporter reads files the step wrote, so it runs as the step's group (the pod's
  // fsGroup owns the folder) with the kubectl image's own non-root uid.
  const security = { ...COORDINATOR_SECURITY, group: spec.security.group };
  const reporter: k8s.Container = {
    name: REPORTER_CONTAINER,
    image: ctx.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/report-values.sh`],
    env: [
      { name: 'MLOPS_VALUES', value: VALUES_DIR },
      { name: 'MLOPS_VALUE_TYPES', value: JSON.stringify(types) },
      { name: 'MLOPS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      // The Job's name holds a hash of this spec, so it cannot be written into it: the Job
      // controller labels every pod with it (batch.kubernetes.io/job-name, Kubernetes 1.27+).
      { name: 'MLOPS_SELF', valueFrom: { fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } } },
      // Its own HOME, not the step's /tmp: a kubeconfig planted there could send the token elsewhere.
      { name: 'HOME', value: REPORTER_HOME },
    ],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
    // The reason it fails a step is its last log line: the pod's status keeps it.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: containerSecurityContext(security),
    volumeMounts: [
      { name: 'values-script', mountPath: LIBRARY_SCRIPT_DIR, readOnly: true },
      { name: 'values', mountPath: VALUES_DIR, readOnly: true },
      { name: 'reporter-home', mountPath: REPORTER_HOME },
      ctx.reporter.tokenMount(),
    ],
  };
  pod.initContainers = [...(pod.initContainers ?? []), step];
  pod.containers = [reporter];
  pod.volumes!.push(
    { name: 'values', emptyDir: {} },
    { name: 'values-script', configMap: { name: ctx.scriptConfigMap } },
    { name: 'reporter-home', emptyDir: {} },
    ctx.reporter.tokenVolume(),
  );
  pod.serviceAccountName = ctx.reporter.serviceAccountName;
  // Only the reporter gets a token, through the projected volume.
  pod.automountServiceAccountToken = false;
  jobSpec.template.metadata = {
    ...jobSpec.template.metadata,
    annotations: { ...jobSpec.template.metadata?.annotations, 'kubectl.kubernetes.io/default-container': step.name },
  };
  // A bad value fails the step at once: running the step again would write the same file.
  jobSpec.podFailurePolicy!.rules.unshift({
    action: 'FailJob',
    onExitCodes: { containerName: REPORTER_CONTAINER, operator: 'In', values: [EXIT_BAD_VALUE] },
    onPodConditions: [],
  });
}

/**
 * A step that declares values runs as the reporter's ServiceAccount, whose token only the
 * reporter container mounts: it cannot also run as a service account of its own, nor give
 * its own container a token (which would be the reporter's, able to write any reporting
 * Job's values and a gate's verdict).
 */
export function valuesReporterProblems(graph: PipelineGraph, reporterAccount: string): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const step of graph.steps) {
    if (!BatchStep.isBatchStep(step) || Object.keys(step.values).length === 0) continue;
    const spec = step.spec();
    const why = `step '${step.stepName}' declares values, so its pod runs as the pipeline's reporter service account '${reporterAccount}', whose token only the `
      + 'library\'s reporter container gets';
    if (spec.serviceAccount) {
      problems.push({ construct: step, message: `${why}; it cannot also run as service account '${spec.serviceAccount.name}' ('serviceAccount', or the `
        + 'pipeline\'s defaults.serviceAccount): move the work that needs that account into a step without values, or write the result to an artifact' });
    }
    if (spec.automountServiceAccountToken) {
      problems.push({ construct: step, message: `${why}; 'automountServiceAccountToken' would hand that token to the step's own container: `
        + 'drop it, or move the API calls into a step without values' });
    }
  }
  return problems;
}
