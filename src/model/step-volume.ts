import type { Size } from 'cdk8s';

/** What a `StepVolume` is backed by; backends render each kind. */
export type StepVolumeSource =
  | { readonly kind: 'claim'; readonly claimName: string }
  | { readonly kind: 'configMap'; readonly name: string }
  | { readonly kind: 'emptyDir'; readonly sizeLimit?: Size; readonly memory: boolean }
  | { readonly kind: 'workspace' };

/** Options of `StepVolume.emptyDir()`. */
export interface EmptyDirOptions {
  /**
   * Most the volume may hold; the kubelet evicts the pod past it.
   * @default - no limit of its own (it counts against the pod's ephemeral storage)
   */
  readonly sizeLimit?: Size;
  /**
   * Back the volume with RAM (tmpfs); it then counts against the container's memory limit.
   * @default false
   */
  readonly memory?: boolean;
}

/**
 * A volume a step mounts besides its artifacts, for images that expect their data at a
 * fixed path (`/data`, `/mnt/vol`, a config file under `/etc`).
 *
 * @example
 * new ContainerStep(pipeline, 'train', {
 *   volumes: [
 *     { mountPath: '/data', volume: StepVolume.fromClaimName('imagenet'), readOnly: true },
 *     { mountPath: '/scratch', volume: StepVolume.emptyDir({ sizeLimit: Size.gibibytes(20) }) },
 *   ],
 * });
 */
export class StepVolume {
  /** An existing PersistentVolumeClaim in the pipeline's namespace, by name. */
  public static fromClaimName(claimName: string): StepVolume {
    return new StepVolume({ kind: 'claim', claimName });
  }

  /** An existing ConfigMap in the pipeline's namespace, by name; its keys appear as files. */
  public static fromConfigMapName(name: string): StepVolume {
    return new StepVolume({ kind: 'configMap', name });
  }

  /** A fresh empty directory that lives as long as the pod. */
  public static emptyDir(options: EmptyDirOptions = {}): StepVolume {
    return new StepVolume({ kind: 'emptyDir', sizeLimit: options.sizeLimit, memory: options.memory ?? false });
  }

  /**
   * The pipeline's workspace, mounted (again) where the image expects it; with `subPath`,
   * one folder of it. The artifact locations in `MLOPS_INPUT_*` / `MLOPS_OUTPUT_*` keep
   * pointing at the usual mount.
   */
  public static workspace(): StepVolume {
    return new StepVolume({ kind: 'workspace' });
  }

  private constructor(public readonly source: StepVolumeSource) {}

  /** `claim 'x'`, `configMap 'y'`, `emptyDir`, `the workspace`: for messages. */
  public toString(): string {
    const s = this.source;
    switch (s.kind) {
      case 'claim': return `claim '${s.claimName}'`;
      case 'configMap': return `configMap '${s.name}'`;
      case 'emptyDir': return 'emptyDir';
      case 'workspace': return 'the workspace';
    }
  }
}

/** A volume and where a step's container sees it. */
export interface StepVolumeMount {
  /** Absolute path in the container. Not `/tmp` or the workspace mount, nor below them. */
  readonly mountPath: string;
  /** What is mounted there. */
  readonly volume: StepVolume;
  /**
   * Mount read-only.
   * @default false - except a ConfigMap, which Kubernetes always mounts read-only
   */
  readonly readOnly?: boolean;
  /**
   * A folder inside the volume to mount instead of its root.
   * @default - the whole volume
   */
  readonly subPath?: string;
}
