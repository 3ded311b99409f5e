import type { Duration } from 'cdk8s';
import type { ContainerResources, EnvValue, ISecret, IServiceAccount } from 'cdk8s-plus-27';
import type { k8s } from 'cdk8s-plus-27';
import type { Artifact } from './artifact';
import type { Gpu } from './gpu';

/** A Secret mounted as files into a step's container. */
export interface SecretVolume {
  /** The Secret, usually imported with `Secret.fromSecretName(scope, id, name)`. */
  readonly secret: ISecret;
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
 * Everything a backend needs to run one step: the container and its wiring.
 *
 * Steps produce this; backends render it. It names no Kubernetes object of its own, so
 * another backend (Argo Workflows) can render the same steps unchanged.
 */
export interface StepSpec {
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  /** Plain and Secret-backed environment, by variable name. */
  readonly env: Record<string, EnvValue>;
  readonly secretVolumes: SecretVolume[];
  readonly resources: ContainerResources;
  readonly gpu?: Gpu;
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: k8s.Toleration[];
  /** Pod retries after the first failure. */
  readonly retries: number;
  /** Wall-clock limit of the step once it started; waiting does not count. */
  readonly timeout?: Duration;
  /** Number of indexed copies (fan-out); 1 means a single pod. */
  readonly fanOut: number;
  /** How many copies may run at once. */
  readonly fanOutParallelism: number;
  readonly serviceAccount?: IServiceAccount;
  /** Registry credentials for the image. */
  readonly imagePullSecrets: ISecret[];
  readonly automountServiceAccountToken: boolean;
  readonly security: Required<StepSecurity>;
  /** Artifacts this step reads, by input name. */
  readonly inputs: Record<string, Artifact>;
  /** Artifacts this step writes, by output name. */
  readonly outputs: Record<string, Artifact>;
}
