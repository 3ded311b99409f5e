/**
 * Where a gate finds the metrics of the model it must not fall behind.
 *
 * The model registry of the serving layer implements this for "the version being served";
 * `Baseline.fromMetricsFile` reads a metrics file on an existing claim. The file may not
 * exist yet: then there is no baseline, and only absolute thresholds apply.
 */
export interface IBaselineSource {
  /** Where the baseline's `metrics.json` is, for the backend to mount read-only. */
  readonly location: BaselineLocation;
}

/** A metrics file on a claim, as a backend mounts it. */
export interface BaselineLocation {
  /** The PersistentVolumeClaim that holds the file. */
  readonly claimName: string;
  /** The file's path inside the claim, without a leading '/'. */
  readonly path: string;
  /** How messages and the verdict name the baseline ("the served model's metrics"). */
  readonly description: string;
}

/** Baseline sources. */
export class Baseline {
  /**
   * The metrics file at `path` on the existing claim `claimName`, e.g. the `metrics.json`
   * that the last promotion copied next to the served model.
   */
  public static fromMetricsFile(claimName: string, path: string): IBaselineSource {
    const clean = path.replace(/^\/+/, '');
    return { location: { claimName, path: clean, description: `${claimName}:/${clean}` } };
  }
}
