import { isWholeNumberIn, shown } from './values';

/** More accelerators than any node offers one pod; a larger count is a mistake. */
const MAX_GPUS = 256;

/**
 * Accelerators a step asks for, as a Kubernetes extended resource.
 *
 * Extended resources can only be requested in whole units and the request equals the limit,
 * so a count is all there is to say.
 */
export class Gpu {
  /** `count` NVIDIA GPUs (`nvidia.com/gpu`, the NVIDIA device plugin's resource). */
  public static nvidia(count: number): Gpu {
    return new Gpu('nvidia.com/gpu', count);
  }

  /** `count` units of any extended resource, e.g. `amd.com/gpu` or `google.com/tpu`. */
  public static resource(resourceName: string, count: number): Gpu {
    return new Gpu(resourceName, count);
  }

  private constructor(public readonly resourceName: string, public readonly count: number) {}

  /** Why this request cannot be scheduled, or undefined when it is fine. */
  public problem(): string | undefined {
    if (!isWholeNumberIn(this.count, 1, MAX_GPUS)) {
      return `gpu count must be a whole number from 1 to ${MAX_GPUS} (no node offers one pod more), got ${shown(this.count)}`;
    }
    // An extended resource is always domain-qualified (`vendor.com/name`).
    if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(this.resourceName)) {
      return `'${this.resourceName}' is not an extended resource name; use '<vendor-domain>/<name>', e.g. 'nvidia.com/gpu'`;
    }
    return undefined;
  }
}
