import { ApiObject } from 'cdk8s';
import { LIBRARY_SCRIPT_DIR } from '../../library-containers';
import type { Construct } from 'constructs';
import { PIPELINE_LABEL, STEP_LABEL } from '../../conventions';
import type { Pipeline } from '../../model/pipeline';
import { RUN_PLACEHOLDER } from './scheduled-run';
import { containerSecurityContext, podSecurityContext } from './security';
import { WORKSPACE_MOUNT } from './step-job';

/** The plan name of the step that deletes old runs' folders; a step of the pipeline cannot have it. */
export const PRUNE_STEP = 'prune-runs';


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

/**
 * The prune step's Job `spec`, created suspended like every step: `assets/prune-runs.sh`,
 * mounted from `scriptConfigMap`, on the coordinator image (bash, jq, kubectl).
 */
export function pruneJobSpec(pipeline: Pipeline, image: string, workspaceClaim: string, scriptConfigMap: string): Record<string, unknown> {
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
          command: ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/prune-runs.sh`],
          env: [
            { name: 'MLOPS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'MLOPS_PIPELINE', value: pipeline.pipelineName },
            { name: 'MLOPS_RUN', value: RUN_PLACEHOLDER },
            { name: 'MLOPS_KEEP_RUNS', value: String(pipeline.runs!.keepArtifactsOfRuns) },
            { name: 'MLOPS_RUNS_DIR', value: `${WORKSPACE_MOUNT}/${pipeline.pipelineName}/runs` },
            { name: 'HOME', value: '/tmp' },
          ],
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          securityContext: containerSecurityContext(security),
          volumeMounts: [
            { name: 'workspace', mountPath: WORKSPACE_MOUNT },
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'script', mountPath: LIBRARY_SCRIPT_DIR, readOnly: true },
          ],
        }],
        volumes: [
          { name: 'workspace', persistentVolumeClaim: { claimName: workspaceClaim } },
          { name: 'tmp', emptyDir: {} },
          { name: 'script', configMap: { name: scriptConfigMap } },
        ],
      },
    },
  };
}
