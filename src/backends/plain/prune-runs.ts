import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { COORDINATOR_ROLE, PIPELINE_LABEL, ROLE_LABEL, STEP_LABEL } from '../../conventions';
import type { Pipeline } from '../../model/pipeline';
import { RUN_PLACEHOLDER } from './scheduled-run';
import { containerSecurityContext, podSecurityContext } from './security';
import { WORKSPACE_MOUNT } from './step-job';

/** The plan name of the step that deletes old runs' folders; a step of the pipeline cannot have it. */
export const PRUNE_STEP = 'prune-runs';

/**
 * Deletes the artifact folders of older runs, newest kept first, and never the folder of a
 * run whose coordinator Job has not finished (still going, or waiting under FORBID).
 * A failed list deletes nothing: it cannot tell which runs are still going.
 */
const PRUNE_SCRIPT = `set -uo pipefail
root="${WORKSPACE_MOUNT}/$MLOPS_PIPELINE/runs"
[[ -d "$root" ]] || { echo "no run folders under $root"; exit 0; }
if ! list=$(kubectl get jobs -n "$MLOPS_NAMESPACE" -l "${PIPELINE_LABEL}=$MLOPS_PIPELINE,${ROLE_LABEL}=${COORDINATOR_ROLE}" --chunk-size=0 -o json); then
  echo "warning: could not list the pipeline's runs; deleting nothing this time"; exit 0
fi
active=$(jq -r '.items[] | select([.status.conditions[]? | select((.type == "Complete" or .type == "Failed") and .status == "True")] == []) | .metadata.name' <<<"$list")
n=0
while IFS= read -r run; do
  n=$((n + 1))
  if (( n <= MLOPS_KEEP_RUNS )); then continue; fi
  if grep -qxF -- "$run" <<<"$active"; then echo "kept $run: the run is still going"; continue; fi
  if rm -rf -- "\${root:?}/$run"; then echo "removed $run"; else echo "warning: could not remove $run"; fi
done < <(ls -1t "$root")
`;

/** The service account of the prune step: it may only list Jobs. */
export function pruneServiceAccountName(pipeline: Pipeline): string {
  return `${pipeline.pipelineName}-prune-runs`;
}

/**
 * The prune step's ServiceAccount, Role and RoleBinding: `list` on Jobs, to tell which runs
 * are still going, and nothing else.
 */
export function declarePruneRbac(scope: Construct, pipeline: Pipeline): void {
  const name = pruneServiceAccountName(pipeline);
  const labels = { 'app.kubernetes.io/component': PRUNE_STEP };
  new ApiObject(scope, 'PruneServiceAccount', {
    apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, labels }, automountServiceAccountToken: false,
  });
  new ApiObject(scope, 'PruneRole', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, labels },
    rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] }],
  });
  new ApiObject(scope, 'PruneRoleBinding', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: pipeline.namespace }],
  });
}

/** The prune step's Job `spec`, on the coordinator image (bash, jq, kubectl), created suspended like every step. */
export function pruneJobSpec(pipeline: Pipeline, image: string, workspaceClaim: string): Record<string, unknown> {
  // The steps' default uid and group, so it may delete what they wrote.
  const security = { user: 1000, group: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true };
  return {
    suspend: true,
    backoffLimit: 2,
    activeDeadlineSeconds: 3600,
    podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
    template: {
      metadata: { labels: { ...pipeline.extraLabels, [PIPELINE_LABEL]: pipeline.pipelineName, [STEP_LABEL]: PRUNE_STEP } },
      spec: {
        restartPolicy: 'Never',
        serviceAccountName: pruneServiceAccountName(pipeline),
        automountServiceAccountToken: true,
        enableServiceLinks: false,
        securityContext: podSecurityContext(security),
        containers: [{
          name: 'main',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/bash', '-c', PRUNE_SCRIPT],
          env: [
            { name: 'MLOPS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'MLOPS_PIPELINE', value: pipeline.pipelineName },
            { name: 'MLOPS_RUN', value: RUN_PLACEHOLDER },
            { name: 'MLOPS_KEEP_RUNS', value: String(pipeline.runs!.keepArtifactsOfRuns) },
            { name: 'HOME', value: '/tmp' },
          ],
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          securityContext: containerSecurityContext(security),
          volumeMounts: [{ name: 'workspace', mountPath: WORKSPACE_MOUNT }, { name: 'tmp', mountPath: '/tmp' }],
        }],
        volumes: [{ name: 'workspace', persistentVolumeClaim: { claimName: workspaceClaim } }, { name: 'tmp', emptyDir: {} }],
      },
    },
  };
}
