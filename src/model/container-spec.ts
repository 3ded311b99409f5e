import type { Duration } from 'cdk8s';
import type { EnvVarValue, NamedReference, StepResources, Toleration } from './plus-values';
import type { Artifact } from './artifact';
import type { Gpu } from './gpu';
import type { ImagePullPolicy } from './pull-policy';
import type { StepValue } from './step-value';
import type { StepVolumeMount } from './step-volume';

/** A Secret mounted as files into a step's container. */
export interface SecretVolume {
  /** The Secret, usually imported with `Secret.fromSecretName(scope, id, name)`. */
  readonly secret: NamedReference;
  /** Where the Secret's keys appear as files. */
  readonly mountPath: string;
}

/**
 * How a step's container runs as a user and what it may do.
 *
 * Every field defaults to the Pod Security Standards "restricted" profile; set a field
 * only to loosen it on purpose, for one step.
 */
export interface StepSecurity {
  /**
   * The uid the container runs as.
   * @default 1000 - a fixed non-root uid, so images whose USER is root still start under runAsNonRoot
   */
  readonly user?: number;
  /**
   * The gid the container runs as; also the fsGroup that owns the workspace volume.
   * @default 1000
   */
  readonly group?: number;
  /**
   * Require a non-root user. Setting false leaves the "restricted" profile.
   * @default true
   */
  readonly runAsNonRoot?: boolean;
  /**
   * Mount the image's root filesystem read-only. `/tmp` is always a writable emptyDir.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
}

/**
 * A container a library step runs before its own, in the same pod, with the step's mounts
 * and variables plus its own: a phase of the step on another image (a promotion's upload
 * with the AWS CLI before its kubectl hooks).
 */
export interface StepInitContainer {
  /** The container's name. */
  readonly name: string;
  readonly image: string;
  /** The command, e.g. `bash` and a script of the step's ConfigMap with its arguments. */
  readonly command: string[];
  /** Its variables besides the step's own (a Secret's keys it alone needs). */
  readonly env: Record<string, EnvVarValue>;
  /** Requests and limits, each side filled in. */
  readonly resources: StepResources;
}

/**
 * Everything a backend needs to run one step: the container and its wiring.
 *
 * Steps produce this; backends render it. It names no Kubernetes object of its own, so
 * another backend (Argo Workflows) can render the same steps unchanged.
 */
export interface StepSpec {
  /** Image reference; empty when neither the step nor the pipeline set one (a synth error). */
  readonly image: string;
  /** When the image is pulled: the user's choice, else what Kubernetes would pick for the tag. */
  readonly imagePullPolicy: ImagePullPolicy;
  /** The container's name (pod status, logs, `kubectl logs -c`). */
  readonly containerName: string;
  /** Entrypoint override; undefined keeps the image's. */
  readonly command?: string[];
  /** Arguments; undefined keeps the image's CMD. */
  readonly args?: string[];
  /** Plain and Secret-backed environment, by variable name. */
  readonly env: Record<string, EnvVarValue>;
  /** Variables the typed step defines (`MLOPS_HP_*`...), set after `env`, unchecked against the reserved prefix. */
  readonly libraryEnv: Record<string, EnvVarValue>;
  /** Secrets mounted as files. */
  readonly secretVolumes: SecretVolume[];
  /** Other volumes (claims, ConfigMaps, emptyDirs, the workspace) at chosen paths. */
  readonly volumes: StepVolumeMount[];
  /**
   * Whether the container gets the `MLOPS_*` variables (artifact locations, pipeline and
   * step names). Off for images that must see exactly their own environment.
   */
  readonly mlopsEnv: boolean;
  /** Requests and limits, with defaults applied and each side filled in. */
  readonly resources: StepResources;
  /** Accelerators, if any. */
  readonly gpu?: Gpu;
  /** Node labels the pod must match (pipeline defaults merged in). */
  readonly nodeSelector: Record<string, string>;
  /** Tolerations (pipeline defaults first). */
  readonly tolerations: Toleration[];
  /** Pod retries after the first failure. */
  readonly retries: number;
  /** Wall-clock limit of the step once it started; waiting does not count. */
  readonly timeout?: Duration;
  /** Number of indexed copies (fan-out); 1 means a single pod. */
  readonly fanOut: number;
  /** How many copies may run at once. */
  readonly fanOutParallelism: number;
  /** Service account the pod runs as; undefined for the namespace default. */
  readonly serviceAccount?: NamedReference;
  /** Registry credentials for the image. */
  readonly imagePullSecrets: NamedReference[];
  /** Whether the pod gets a service account token. */
  readonly automountServiceAccountToken: boolean;
  /** The security profile, every field resolved. */
  readonly security: Required<StepSecurity>;
  /**
   * A script of the library (`assets/<name>`) the container runs instead of `command`, on
   * the image the backend gave for it; undefined for a user's container.
   */
  readonly libraryScript?: string;
  /**
   * Containers run before the step's own, in order, with its mounts and variables.
   * @default - none
   */
  readonly initContainers?: readonly StepInitContainer[];
  /** Artifacts this step reads, by input name. */
  readonly inputs: Record<string, Artifact>;
  /** Artifacts this step writes, by output name. */
  readonly outputs: Record<string, Artifact>;
  /** Small typed values this step writes (`$MLOPS_VALUES/<name>`), by name. */
  readonly values: Record<string, StepValue>;
  /** Values of upstream steps this step reads, by alias (`MLOPS_VALUE_<ALIAS>`). */
  readonly inputValues: Record<string, StepValue>;
}
