import type * as k8s from './k8s-types';
import type { EnvVarValue } from '../../model/plus-values';
import { keyRefOf } from '../../model/key-refs';
import type { StepSpec } from '../../model/container-spec';
import type { Step } from '../../model/step';
import { sizeQuantity, toQuantities } from '../../model/resources';
import type { StepVolume } from '../../model/step-volume';
import { PIPELINE_LABEL, RUN_FAILURES_ANNOTATION, RUN_STATUS_ANNOTATION, STEP_LABEL, VALUE_IN_ANNOTATION_PREFIX } from '../../conventions';
import { LIBRARY_SCRIPT_DIR, PREPARE_OUTPUTS_CONTAINER } from '../../library-containers';
import { containerSecurityContext, podSecurityContext } from './security';
import { addValuesReporter, ValuesReporterContext } from './values-reporter';
import { usesWorkspace } from './workspace-claim';

/** Where the workspace is mounted in every step that reads or writes artifacts. */
export const WORKSPACE_MOUNT = '/mnt/workspace';

/** What a step Job needs besides its spec: names and settings decided by the backend. */
export interface StepJobContext {
  readonly pipelineName: string;
  readonly stepName: string;
  /** This step's directory in the workspace; its outputs are subdirectories. */
  readonly stepDir: string;
  /** The directory of an upstream step, for its artifacts this step reads. */
  readonly stepDirOf: (step: Step) => string;
  /** The workspace claim to mount, when the step reads or writes artifacts. */
  readonly workspaceClaim: string;
  /** Image with `mkdir`, used to create output directories before the step starts. */
  readonly utilityImage: string;
  /** The pipeline's extra labels, for the pods too. */
  readonly labels: Record<string, string>;
  /** An exit handler reads the run's outcome, which the coordinator writes into its pod template. */
  readonly exitHandler: boolean;
  /** The run id, for a step whose Job belongs to one run of a scheduled or on-demand pipeline. */
  readonly run?: string;
  /** What reports the values of a step that declares some; asked for only then. */
  readonly valuesReporter: () => ValuesReporterContext;
  /**
   * For a member of a fan-out or sweep: its folder under each output (`/<index>`), since
   * the members of a group share one directory per output.
   */
  readonly outputSuffix?: string;
  /** For a step that runs a library script: the ConfigMap holding it. */
  readonly libraryScriptConfigMap?: string;
}

/**
 * A step's directory in the workspace: `<mount>/<pipeline>/<step>-<hash>`. The hash covers
 * the run id and everything upstream, so a changed step (or run) never writes over, or reads,
 * another version's files.
 */
export function stepDirectory(pipelineName: string, stepName: string, hash: string): string {
  return `${WORKSPACE_MOUNT}/${pipelineName}/${stepName}-${hash}`;
}

/**
 * Replaces the placeholder `stepDir` a spec was rendered with by the real directory,
 * once the step's hash (which covers that spec) is known.
 */
export function setStepDirectory(jobSpec: Record<string, any>, placeholder: string, dir: string): void {
  const pod = jobSpec.template.spec;
  const put = (text: string) => (text.startsWith(placeholder) ? dir + text.slice(placeholder.length) : text);
  // The step's container is the main one, or the last init container of a step that reports values.
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const e of container.env ?? []) if (typeof e.value === 'string') e.value = put(e.value);
    if (container.name === PREPARE_OUTPUTS_CONTAINER) container.command = container.command.map(put);
  }
}

/** The HOME of step containers unless they set their own: inside the writable /tmp emptyDir. */
const HOME = '/tmp';

/** The pod volume of a `StepVolume`, without its name; undefined for the workspace, which the pod has already. */
function volumeSource(volume: StepVolume): Omit<k8s.Volume, 'name'> | undefined {
  const s = volume.source;
  switch (s.kind) {
    case 'claim': return { persistentVolumeClaim: { claimName: s.claimName } };
    case 'configMap': return { configMap: { name: s.name } };
    case 'emptyDir': return { emptyDir: { medium: s.memory ? 'Memory' : undefined, sizeLimit: s.sizeLimit && sizeQuantity(s.sizeLimit) } };
    case 'workspace': return undefined;
  }
}

/** `MLOPS_INPUT_` / `MLOPS_OUTPUT_` + the artifact name in upper case. */
export function artifactEnvName(direction: 'INPUT' | 'OUTPUT', name: string): string {
  return `MLOPS_${direction}_${name.toUpperCase()}`;
}

/**
 * The `spec` of a step's Job: created suspended, so that it holds nothing until the
 * coordinator releases it. Built as the typed `k8s.JobSpec` (a misspelled field fails to
 * compile), which is the JSON Kubernetes reads and what the step's hash covers.
 */
export function renderStepJobSpec(spec: StepSpec, ctx: StepJobContext): k8s.JobSpec {
  const outputDir = (name: string) => `${ctx.stepDir}/${name}${ctx.outputSuffix ?? ''}`;
  const outputDirs = Object.keys(spec.outputs).map(outputDir);
  const env: k8s.EnvVar[] = Object.entries({ ...spec.env, ...spec.libraryEnv }).map(([name, value]) => envVar(name, value));
  // uid 1000 has no home in most images and the root filesystem is read-only: pip, git,
  // matplotlib and most CLIs need a writable one. A HOME the user set wins.
  if (!('HOME' in spec.env)) env.push({ name: 'HOME', value: HOME });
  if (spec.mlopsEnv) {
    env.push({ name: 'MLOPS_PIPELINE', value: ctx.pipelineName }, { name: 'MLOPS_STEP', value: ctx.stepName });
    if (ctx.run !== undefined) env.push({ name: 'MLOPS_RUN', value: ctx.run });
    for (const [name, artifact] of Object.entries(spec.inputs)) {
      env.push({ name: artifactEnvName('INPUT', name), value: `${ctx.stepDirOf(artifact.stored.producer)}/${artifact.stored.name}` });
    }
    for (const name of Object.keys(spec.outputs)) {
      env.push({ name: artifactEnvName('OUTPUT', name), value: outputDir(name) });
    }
  }

  // Control-flow inputs stay even with mlopsEnv off: the step asked for them by being a
  // handler, or by reading values.
  if (ctx.exitHandler) {
    env.push(podAnnotationEnv('MLOPS_RUN_STATUS', RUN_STATUS_ANNOTATION), podAnnotationEnv('MLOPS_RUN_FAILURES', RUN_FAILURES_ANNOTATION));
  }
  for (const alias of Object.keys(spec.inputValues)) {
    env.push(podAnnotationEnv(valueEnvName(alias), `${VALUE_IN_ANNOTATION_PREFIX}${alias}`));
  }

  const volumes: k8s.Volume[] = [{ name: 'tmp', emptyDir: {} }];
  const mounts: k8s.VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (usesWorkspace(spec)) {
    volumes.push({ name: 'workspace', persistentVolumeClaim: { claimName: ctx.workspaceClaim } });
    if (Object.keys(spec.inputs).length + Object.keys(spec.outputs).length > 0) mounts.push({ name: 'workspace', mountPath: WORKSPACE_MOUNT });
  }
  spec.secretVolumes.forEach((v, i) => {
    volumes.push({ name: `secret-${i}`, secret: { secretName: v.secret.name } });
    mounts.push({ name: `secret-${i}`, mountPath: v.mountPath, readOnly: true });
  });
  if (spec.libraryScript !== undefined && ctx.libraryScriptConfigMap !== undefined) {
    volumes.push({ name: 'library-script', configMap: { name: ctx.libraryScriptConfigMap } });
    mounts.push({ name: 'library-script', mountPath: LIBRARY_SCRIPT_DIR, readOnly: true });
  }
  spec.volumes.forEach((v, i) => {
    const source = volumeSource(v.volume);
    const name = source === undefined ? 'workspace' : `volume-${i}`;
    if (source !== undefined) volumes.push({ name, ...source });
    mounts.push({ name, mountPath: v.mountPath, subPath: v.subPath, readOnly: v.readOnly || v.volume.source.kind === 'configMap' || undefined });
  });

  const quantities = toQuantities(spec.resources);
  const limits: Record<string, string> = { ...quantities.limits };
  const requests: Record<string, string> = { ...quantities.requests };
  if (spec.gpu) {
    // Extended resources cannot be overcommitted: request and limit must be equal.
    limits[spec.gpu.resourceName] = String(spec.gpu.count);
    requests[spec.gpu.resourceName] = String(spec.gpu.count);
  }

  const podLabels = { ...ctx.labels, [PIPELINE_LABEL]: ctx.pipelineName, [STEP_LABEL]: ctx.stepName };
  const pullSecrets = [...new Set(spec.imagePullSecrets.map((s) => s.name))];
  const container: k8s.Container = {
    name: spec.containerName,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    command: spec.libraryScript !== undefined ? ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/${spec.libraryScript}`] : spec.command,
    args: spec.args,
    env,
    resources: { limits, requests },
    securityContext: containerSecurityContext(spec.security),
    volumeMounts: mounts,
  };
  const prepare: k8s.Container[] = outputDirs.length === 0 ? [] : [{
    name: PREPARE_OUTPUTS_CONTAINER,
    image: ctx.utilityImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['mkdir', '-p', ...outputDirs],
    resources: { limits: { cpu: '100m', memory: '32Mi' }, requests: { cpu: '10m', memory: '16Mi' } },
    securityContext: containerSecurityContext(spec.security),
    volumeMounts: [{ name: 'workspace', mountPath: WORKSPACE_MOUNT }],
  }];
  const phases: k8s.Container[] = (spec.initContainers ?? []).map((c) => {
    const own = toQuantities(c.resources);
    return {
      name: c.name,
      image: c.image,
      imagePullPolicy: 'IfNotPresent',
      command: c.command,
      env: [...env, ...Object.entries(c.env).map(([name, value]) => envVar(name, value))],
      resources: { limits: own.limits, requests: own.requests },
      securityContext: containerSecurityContext(spec.security),
      volumeMounts: mounts,
    };
  });
  const initContainers = prepare.length + phases.length === 0 ? undefined : [...prepare, ...phases];

  const indexed = spec.fanOut > 1;
  const jobSpec: k8s.JobSpec = {
    suspend: true,
    backoffLimit: spec.retries,
    activeDeadlineSeconds: spec.timeout?.toSeconds(),
    completionMode: indexed ? 'Indexed' : undefined,
    completions: indexed ? spec.fanOut : undefined,
    parallelism: indexed ? spec.fanOutParallelism : undefined,
    // A preempted or evicted pod is the cluster's fault, not the step's: do not spend a retry.
    podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
    template: {
      metadata: { labels: podLabels },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: spec.automountServiceAccountToken,
        serviceAccountName: spec.serviceAccount?.name,
        imagePullSecrets: pullSecrets.length > 0 ? pullSecrets.map((name) => ({ name })) : undefined,
        enableServiceLinks: false,
        securityContext: podSecurityContext(spec.security),
        nodeSelector: Object.keys(spec.nodeSelector).length > 0 ? spec.nodeSelector : undefined,
        // Operators and effects were checked at synth (spec-checks), so the strings are the API's enums.
        tolerations: spec.tolerations.length > 0 ? (spec.tolerations as k8s.Toleration[]) : undefined,
        initContainers,
        containers: [container],
        volumes,
      },
    },
  };
  if (Object.keys(spec.values).length > 0) addValuesReporter(jobSpec, spec, ctx.valuesReporter());
  return jobSpec;
}

/** `MLOPS_VALUE_` + the alias in upper case: where a step reads a value of an upstream step. */
export function valueEnvName(alias: string): string {
  return `MLOPS_VALUE_${alias.toUpperCase()}`;
}

/**
 * What a step's pod references by name but the pipeline does not create, as `kind/name`
 * for the external-refs annotation: Secrets, its service account, an existing claim.
 */
export function externalReferences(spec: StepSpec, existingClaim: string | undefined): string[] {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  for (const value of [...Object.values(spec.env), ...Object.values(spec.libraryEnv), ...(spec.initContainers ?? []).flatMap((c) => Object.values(c.env))]) {
    const ref = keyRefOf(value);
    if (ref) (ref.kind === 'secret' ? secrets : configMaps).add(ref.name);
  }
  for (const v of spec.secretVolumes) secrets.add(v.secret.name);
  for (const s of spec.imagePullSecrets) secrets.add(s.name);
  const refs = [...secrets].sort().map((name) => `secret/${name}`);
  const claims = new Set<string>();
  if (existingClaim !== undefined && usesWorkspace(spec)) claims.add(existingClaim);
  for (const { volume: { source } } of spec.volumes) {
    if (source.kind === 'configMap') configMaps.add(source.name);
    if (source.kind === 'claim') claims.add(source.claimName);
  }
  refs.push(...[...configMaps].sort().map((name) => `configmap/${name}`), ...[...claims].sort().map((name) => `persistentvolumeclaim/${name}`));
  if (spec.serviceAccount) refs.push(`serviceaccount/${spec.serviceAccount.name}`);
  return refs;
}

/**
 * An env var read through the downward API from the pod's own annotation, which the
 * coordinator sets in the suspended Job's template just before releasing it (Kubernetes
 * >= 1.27 lets a never-started suspended Job's template annotations change). Not declared
 * in the template: a re-apply would then reset it. Empty when absent.
 */
function podAnnotationEnv(name: string, annotation: string): k8s.EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${annotation}']` } } };
}

function envVar(name: string, value: EnvVarValue): k8s.EnvVar {
  return value.valueFrom !== undefined ? { name, valueFrom: value.valueFrom } : { name, value: value.value };
}
