import type { Size } from 'cdk8s';

/*
 * The values a pipeline takes from cdk8s-plus, described by their public shape rather than
 * by a class of one cdk8s-plus package. Users have whichever cdk8s-plus-NN `cdk8s init`
 * gave them (27, 33, ...); each version has its own `Cpu`, `EnvValue` and `Secret`
 * classes, so a type or an `instanceof` bound to one of them would refuse the others.
 * Every cdk8s-plus version's values fit these shapes, and so do plain object literals.
 */

/** A cpu amount: cdk8s-plus's `Cpu.units(4)` or `Cpu.millis(500)`, or `{ amount: '250m' }`. */
export interface CpuAmount {
  /** The Kubernetes quantity, e.g. `'4'` or `'500m'`. */
  readonly amount: string;
}

/** A request and a limit of one resource; a side left out copies the other. */
export interface ResourceRange<T> {
  /**
   * What the scheduler reserves for the pod.
   * @default - the limit
   */
  readonly request?: T;
  /**
   * What the container may use at most.
   * @default - the request
   */
  readonly limit?: T;
}

/** Cpu, memory and ephemeral storage of a step: cdk8s-plus's `ContainerResources` fits. */
export interface StepResources {
  /**
   * Cpu, e.g. `{ request: Cpu.units(4) }`.
   * @default - the pipeline's defaults, else 500m request / 1 limit
   */
  readonly cpu?: ResourceRange<CpuAmount>;
  /**
   * Memory, in whole mebibytes, e.g. `{ request: Size.gibibytes(16) }`.
   * @default - the pipeline's defaults, else 512Mi request / 1Gi limit
   */
  readonly memory?: ResourceRange<Size>;
  /**
   * Node-local scratch space, in whole mebibytes.
   * @default - none
   */
  readonly ephemeralStorage?: ResourceRange<Size>;
}

/**
 * An environment variable's value: cdk8s-plus's `EnvValue.fromValue('x')` or
 * `EnvValue.fromSecretValue({ secret, key })`, or `{ value: 'x' }`.
 */
export interface EnvVarValue {
  /**
   * A literal value.
   * @default - none; then `valueFrom` must be set
   */
  readonly value?: string;
  /**
   * Where the value comes from at run time (a Secret's key, a ConfigMap's key, a field of
   * the pod), as Kubernetes' `EnvVarSource`.
   * @default - none; then `value` must be set
   */
  readonly valueFrom?: EnvVarSource;
}

/** Kubernetes `EnvVarSource`; only the Secret reference is read, to declare it external. */
export interface EnvVarSource {
  /** A key of a Secret. */
  readonly secretKeyRef?: { readonly name?: string; readonly key: string; readonly optional?: boolean };
  /** Any other source Kubernetes accepts (configMapKeyRef, fieldRef, resourceFieldRef). */
  readonly [source: string]: unknown;
}

/**
 * An existing object referenced by name: cdk8s-plus's `Secret.fromSecretName(scope, id, 'x')`
 * or `ServiceAccount.fromServiceAccountName(...)`, or `{ name: 'x' }`.
 */
export interface NamedReference {
  /** The object's `metadata.name` in the pipeline's namespace. */
  readonly name: string;
}

/** A Kubernetes toleration, as in cdk8s-plus's `k8s.Toleration`. */
export interface Toleration {
  /**
   * The taint key; empty with operator Exists matches every taint.
   * @default - every key
   */
  readonly key?: string;
  /**
   * `Equal` or `Exists`.
   * @default 'Equal'
   */
  readonly operator?: string;
  /**
   * The taint value, for operator Equal.
   * @default - empty
   */
  readonly value?: string;
  /**
   * `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
   * @default - every effect
   */
  readonly effect?: string;
  /**
   * How long a NoExecute taint is tolerated before eviction.
   * @default - forever
   */
  readonly tolerationSeconds?: number;
}
