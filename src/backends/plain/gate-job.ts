import { PIPELINE_LABEL, STEP_LABEL } from '../../conventions';
import { LIBRARY_SCRIPT_DIR, REGISTRY_SCRIPT_DIR } from '../../library-containers';
import type { Gate } from '../../model/gate';
import type { Step } from '../../model/step';
import type * as k8s from './k8s-types';
import type { Reporter } from './reporter';
import { containerSecurityContext, COORDINATOR_SECURITY, podSecurityContext } from './security';
import { artifactEnvName, WORKSPACE_MOUNT } from './step-job';
import { objectStoreClientContainer } from './object-store-client';

/** Exit code of the gate script when the metrics cannot be judged: the Job fails at once. */
export const EXIT_GATE_BAD_METRICS = 3;

/** Where a gate mounts the baseline's claim (or the emptyDir its object-store baseline is downloaded into). */
const BASELINE_MOUNT = '/mnt/baseline';

/** What a gate Job needs besides the gate: names decided by the backend. */
export interface GateJobContext {
  readonly pipelineName: string;
  /** The directory of an upstream step, for the metrics the gate reads. */
  readonly stepDirOf: (step: Step) => string;
  readonly workspaceClaim: string;
  /** The coordinator's image: bash, jq and kubectl. */
  readonly image: string;
  /** The ConfigMap that holds `gate.sh`. */
  readonly scriptConfigMap: string;
  /** The ConfigMap that holds `registry-s3.sh`, for a baseline in a registry on an object store. */
  readonly registryScriptConfigMap?: string;
  readonly reporter: Reporter;
  readonly labels: Record<string, string>;
}

/**
 * The `spec` of a gate's Job, created suspended like every step: the library's gate script
 * on the coordinator's image, the workspace read-only, and the reporter's token mounted
 * into this one container so it can write the verdict on its own Job.
 */
export function renderGateJobSpec(gate: Gate, ctx: GateJobContext): k8s.JobSpec {
  const metrics = gate.inputs.metrics;
  const env: k8s.EnvVar[] = [
    { name: 'MLOPS_PIPELINE', value: ctx.pipelineName },
    { name: 'MLOPS_STEP', value: gate.stepName },
    { name: 'MLOPS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    // The Job's name holds a hash of this spec, so it cannot be written into it: the Job
    // controller labels every pod with it (batch.kubernetes.io/job-name, Kubernetes 1.27+).
    { name: 'MLOPS_SELF', valueFrom: { fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } } },
    { name: artifactEnvName('INPUT', 'metrics'), value: `${ctx.stepDirOf(metrics.stored.producer)}/${metrics.stored.name}` },
    { name: 'MLOPS_GATE_THRESHOLDS', value: JSON.stringify(gate.thresholds.map((t) => t.toJson())) },
    { name: 'HOME', value: '/tmp' },
  ];
  const volumes: k8s.Volume[] = [
    { name: 'script', configMap: { name: ctx.scriptConfigMap } },
    { name: 'tmp', emptyDir: {} },
    { name: 'workspace', persistentVolumeClaim: { claimName: ctx.workspaceClaim, readOnly: true } },
    ctx.reporter.tokenVolume(),
  ];
  const mounts: k8s.VolumeMount[] = [
    { name: 'script', mountPath: LIBRARY_SCRIPT_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'workspace', mountPath: WORKSPACE_MOUNT, readOnly: true },
    ctx.reporter.tokenMount(),
  ];
  const baseline = gate.baseline?.location;
  // The kubectl image's nonroot uid, in the steps' group, so the workspace's group (its
  // fsGroup) stays as the steps set it and the metrics stay readable.
  const security = { ...COORDINATOR_SECURITY, group: 1000 };
  let initContainers: k8s.Container[] | undefined;
  if (baseline) {
    env.push(
      { name: baseline.latestVersion ? 'MLOPS_GATE_BASELINE_REGISTRY' : 'MLOPS_GATE_BASELINE', value: `${BASELINE_MOUNT}/${baseline.path}` },
      { name: 'MLOPS_GATE_BASELINE_NAME', value: baseline.description },
    );
    mounts.push({ name: 'baseline', mountPath: BASELINE_MOUNT, readOnly: true });
    if (baseline.objectStore) {
      // The newest ready version's lineage.json, downloaded into an emptyDir laid out as a
      // claim registry (<model>/<version>/): gate.sh reads it as it reads a claim.
      volumes.push({ name: 'baseline', emptyDir: { sizeLimit: '1Mi' } }, { name: 'registry-script', configMap: { name: ctx.registryScriptConfigMap! } });
      initContainers = [objectStoreClientContainer({
        name: 'fetch-baseline', store: baseline.objectStore, model: baseline.path, security,
        args: ['baseline', `${BASELINE_MOUNT}/${baseline.path}`],
        resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        script: { volume: 'registry-script', mountPath: REGISTRY_SCRIPT_DIR },
        target: { volume: 'baseline', mountPath: BASELINE_MOUNT },
      })];
    } else {
      volumes.push({ name: 'baseline', persistentVolumeClaim: { claimName: baseline.claimName!, readOnly: true } });
    }
  }
  const spec: k8s.JobSpec = {
    suspend: true,
    // An API error while writing the verdict is worth a retry; a rejection exits 0 and
    // metrics that cannot be judged fail the Job at once (below).
    backoffLimit: 2,
    podFailurePolicy: {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'gate', operator: 'In', values: [EXIT_GATE_BAD_METRICS] }, onPodConditions: [] },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      ],
    },
    template: {
      metadata: { labels: { ...ctx.labels, [PIPELINE_LABEL]: ctx.pipelineName, [STEP_LABEL]: gate.stepName } },
      spec: {
        restartPolicy: 'Never',
        serviceAccountName: ctx.reporter.serviceAccountName,
        // Only the gate container gets a token, through the projected volume.
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: podSecurityContext(security),
        initContainers,
        containers: [{
          name: 'gate',
          image: ctx.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/gate.sh`],
          env,
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
          securityContext: containerSecurityContext(security),
          volumeMounts: mounts,
        }],
        volumes,
      },
    },
  };
  return spec;
}
