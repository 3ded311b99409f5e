import type { Duration } from 'cdk8s';
import type { EnvVarValue, NamedReference, StepResources, Toleration } from './plus-values';
import type { SecretVolume, StepSecurity } from './container-spec';
import type { Gpu } from './gpu';
import type { ImagePullPolicy } from './pull-policy';
import type { StepVolumeMount } from './step-volume';
import type { Step } from './step';
import type { Condition, StepValue } from './step-value';
import type { TriggerRule } from './trigger-rule';

/**
 * How a batch step's container runs: the options every batch step takes, typed steps and
 * `ContainerStep` alike. Resolved once, against the pipeline's defaults, by `BatchStep`.
 */
export interface StepOptions {
  /**
   * Container image, ideally pinned by digest.
   * @default - the pipeline's `defaults.image`; synthesis fails when neither is set
   */
  readonly image?: string;
  /**
   * When the kubelet pulls the image.
   * @default - as Kubernetes picks it: 'Always' for a `:latest` tag or no tag, else 'IfNotPresent'
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * The container's name, as `kubectl logs -c` and pod status show it.
   * @default 'main'
   */
  readonly containerName?: string;
  /**
   * Entrypoint override.
   * @default - the image's ENTRYPOINT
   */
  readonly command?: string[];
  /**
   * Arguments.
   * @default - the image's CMD
   */
  readonly args?: string[];
  /**
   * Environment variables. Use cdk8s-plus's `EnvValue.fromSecretValue()` (any version) for credentials: the YAML then
   * references the Secret's key and never holds the value.
   * @default - only the pipeline's default env and the MLOPS_* artifact locations
   */
  readonly env?: Record<string, EnvVarValue>;
  /**
   * Secrets mounted as files.
   * @default - none
   */
  readonly secretVolumes?: SecretVolume[];
  /**
   * More volumes at paths of your choice: an existing claim, a ConfigMap, a size-limited
   * emptyDir, or the workspace itself (`StepVolume.workspace()`) where the image expects
   * its data. Not at `/tmp` or the workspace mount, nor below them.
   * @default - none
   */
  readonly volumes?: StepVolumeMount[];
  /**
   * Set the `MLOPS_*` variables (artifact locations, `MLOPS_PIPELINE`, `MLOPS_STEP`). Turn
   * it off for an image that must see exactly its own environment; artifacts are then
   * still mounted at their usual paths, which the step must know itself.
   * @default true
   */
  readonly mlopsEnv?: boolean;
  /**
   * CPU, memory and ephemeral-storage requests and limits.
   * @default - the pipeline's `defaults.resources`, else cpu 500m/1 and memory 512Mi/1Gi
   */
  readonly resources?: StepResources;
  /**
   * Accelerators, e.g. `Gpu.nvidia(1)`. Reserved only once the step starts, never while
   * it waits for its upstream steps.
   * @default - none
   */
  readonly gpu?: Gpu;
  /**
   * Node labels the pod must match (merged over the pipeline's defaults).
   * @default - the pipeline's `defaults.nodeSelector`
   */
  readonly nodeSelector?: Record<string, string>;
  /**
   * Tolerations, added to the pipeline's defaults (e.g. for tainted GPU nodes).
   * @default - the pipeline's `defaults.tolerations`
   */
  readonly tolerations?: Toleration[];
  /**
   * How many times a failed pod is retried before the step fails.
   * @default - the pipeline's `defaults.retries`, else 0
   */
  readonly retries?: number;
  /**
   * Limit on the step's running time (`activeDeadlineSeconds`). It starts when the step is
   * released, not while it waits.
   * @default - no limit other than the pipeline's run deadline
   */
  readonly timeout?: Duration;
  /**
   * Run this many indexed copies (an Indexed Job); each gets `JOB_COMPLETION_INDEX`.
   * @default 1
   */
  readonly fanOut?: number;
  /**
   * How many copies of a fanned-out step run at once.
   * @default - all of them
   */
  readonly fanOutParallelism?: number;
  /**
   * Service account the pod runs as.
   * @default - the pipeline's `defaults.serviceAccount`, else the namespace's default
   */
  readonly serviceAccount?: NamedReference;
  /**
   * Secrets holding registry credentials for a private image, added to the pipeline's.
   * @default - the pipeline's `defaults.imagePullSecrets`
   */
  readonly imagePullSecrets?: NamedReference[];
  /**
   * Mount the service account token, for steps that call the Kubernetes API.
   * @default false - a step cannot talk to the API server unless it asks
   */
  readonly automountServiceAccountToken?: boolean;
  /**
   * Loosen the restricted security profile for this step only.
   * @default - restricted: non-root uid 1000, no privilege escalation, no capabilities,
   * RuntimeDefault seccomp, read-only root filesystem
   */
  readonly security?: StepSecurity;
  /**
   * When the step runs relative to its upstream steps: `TriggerRule.ALL_DONE` for clean-up
   * that must run whatever happened, `ONE_FAILED` for alerts, `NONE_FAILED` to run after a
   * branch its condition skipped.
   * @default TriggerRule.ALL_SUCCEEDED - every upstream step completed
   */
  readonly trigger?: TriggerRule;
  /**
   * Steps to wait for besides the producers of the step's inputs.
   * @default - none
   */
  readonly after?: Step[];
  /**
   * Values of upstream steps to read, by alias: each is handed over as the env var
   * `MLOPS_VALUE_<ALIAS>` (JSON text for numbers, booleans and JSON values), which `args`
   * and `command` can use as `$(MLOPS_VALUE_<ALIAS>)`. Reading a value orders this step
   * after its producer. Set even with `mlopsEnv: false`.
   * @default - none
   */
  readonly inputValues?: Record<string, StepValue>;
  /**
   * Run the step only when this condition on upstream values holds, e.g.
   * `evaluate.values.accuracy.atLeast(0.8)`. Decided at run time, when the trigger rule
   * would release the step; false skips it with the comparison as the reason, which is a
   * result, not a failure (a `NONE_FAILED` step after it still runs).
   * @default - the step runs whenever its trigger rule says so
   */
  readonly when?: Condition;
}
