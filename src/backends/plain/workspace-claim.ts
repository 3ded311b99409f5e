import { ApiObject } from 'cdk8s';
import { BatchStep } from '../../model/batch-step';
import type * as k8s from './k8s-types';
import type { PipelineGraph } from '../../model/graph';
import type { Pipeline } from '../../model/pipeline';
import type { Step } from '../../model/step';
import type { StepSpec } from '../../model/container-spec';
import { WorkspaceAccess } from '../../model/workspace';

/** The claim steps mount: the existing one, or `<pipeline>-workspace`. */
export function workspaceClaimName(pipeline: Pipeline): string {
  return pipeline.workspace.existingClaimName ?? `${pipeline.pipelineName}-workspace`;
}

/** Whether a step reads or writes artifacts or mounts the workspace itself, and so mounts the claim. */
export function usesWorkspace(spec: Pick<StepSpec, 'inputs' | 'outputs' | 'volumes'>): boolean {
  return Object.keys(spec.inputs).length + Object.keys(spec.outputs).length > 0
    || spec.volumes.some((v) => v.volume.source.kind === 'workspace');
}

/** Whether a node of any kind mounts the claim: a batch step by its spec, others by their artifacts. */
export function nodeUsesWorkspace(step: Step): boolean {
  if (BatchStep.isBatchStep(step)) return usesWorkspace(step.spec());
  return Object.keys(step.inputs).length + Object.keys(step.outputs).length > 0;
}

/** The PersistentVolumeClaim a pipeline declares for its own workspace. */
export function declareWorkspaceClaim(pipeline: Pipeline): ApiObject {
  const ws = pipeline.workspace;
  const claimSpec: k8s.PersistentVolumeClaimSpec = {
    accessModes: [ws.access],
    storageClassName: ws.storageClassName,
    resources: { requests: { storage: ws.storageQuantity! } },
  };
  return new ApiObject(pipeline, 'Workspace', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: workspaceClaimName(pipeline), labels: { 'app.kubernetes.io/component': 'workspace' } },
    spec: claimSpec,
  });
}

/**
 * What the workspace's access mode does to steps that could run side by side: on
 * ReadWriteOnce they wait for each other across nodes, on ReadWriteOncePod always.
 */
export function workspaceWarnings(pipeline: Pipeline, graph: PipelineGraph): string[] {
  const ws = pipeline.workspace;
  const access = ws.access;
  if (access === WorkspaceAccess.READ_WRITE_MANY) {
    // Default storage classes are block storage (RWO only) almost everywhere: the claim would stay Pending.
    const declared = ws.existingClaimName === undefined && graph.steps.some(nodeUsesWorkspace);
    return declared && ws.storageClassName === undefined
      ? ['the workspace is ReadWriteMany but names no storageClassName: the cluster\'s default class is usually block storage, '
        + 'which cannot serve ReadWriteMany, and the claim would stay Pending; set storageClassName to an RWX class (NFS, CephFS, EFS, Filestore)']
      : [];
  }
  if (pipeline.maxParallel === 1) return [];
  const levels = graph.levels();
  const byLevel = new Map<number, string[]>();
  for (const step of graph.steps) {
    if (!nodeUsesWorkspace(step)) continue;
    const level = levels.get(step)!;
    const names = byLevel.get(level);
    if (names) names.push(step.stepName);
    else byLevel.set(level, [step.stepName]);
  }
  const parallel = [...byLevel.values()].find((names) => names.length > 1);
  if (!parallel) return [];
  const steps = parallel.map((n) => `'${n}'`).join(', ');
  const fix = 'Use Workspace.claim({ access: WorkspaceAccess.READ_WRITE_MANY }) with an RWX storage class, '
    + 'or maxParallel: 1, if they must overlap';
  return [access === WorkspaceAccess.READ_WRITE_ONCE_POD
    ? `steps ${steps} may run at the same time but share a ReadWriteOncePod workspace: only one pod can mount it, `
      + `so they run one after another. ${fix}`
    : `steps ${steps} may run at the same time and share a ReadWriteOnce workspace: pods on other nodes wait `
      + `(Multi-Attach) until the volume is free. ${fix} across nodes`];
}
