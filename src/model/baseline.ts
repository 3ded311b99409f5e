import type { ObjectStorePrefix } from './object-store';

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

/** A metrics file on a claim or in a model registry on an object store, as a backend reads it. */
export interface BaselineLocation {
  /** The PersistentVolumeClaim that holds the file; undefined when `objectStore` is set. */
  readonly claimName?: string;
  /**
   * A model registry on an object store: the gate's pod first downloads the `lineage.json`
   * of `path`'s highest ready version into an emptyDir (`latestVersion` is then true).
   * @default - the file is on `claimName`
   */
  readonly objectStore?: ObjectStorePrefix;
  /** The file's path inside the claim (or the model's folder in the registry), without a leading '/'. */
  readonly path: string;
  /** How messages and the verdict name the baseline ("the served model's metrics"). */
  readonly description: string;
  /**
   * `path` is a model's folder in a model registry: the gate reads the `metrics` of
   * `lineage.json` in its highest integer version folder holding `READY`.
   * @default false - `path` is the metrics file itself
   */
  readonly latestVersion?: boolean;
}

/** Where a model registry is: what `Baseline.fromRegistry` needs of a `ModelRegistry`. */
export interface IRegistryLocation {
  /** The registry's PersistentVolumeClaim; undefined on an object store. */
  readonly claimName?: string;
  /** The registry's bucket prefix; undefined on a claim. */
  readonly objectStore?: ObjectStorePrefix;
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

  /**
   * The metrics of the latest ready version of `model` in a model registry, as its promotion
   * recorded them (`<model>/<version>/lineage.json`): "no worse than the version published
   * last". Before the first promotion there is none, and only absolute thresholds apply.
   * The gate reads the registry when it runs, so every run compares with the newest version.
   */
  public static fromRegistry(registry: IRegistryLocation, model: string): IBaselineSource {
    const where = registry.objectStore?.uri ?? registry.claimName;
    return { location: { claimName: registry.claimName, objectStore: registry.objectStore, path: model, description: `${model} in registry ${where}`, latestVersion: true } };
  }
}
