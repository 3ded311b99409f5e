import { dnsSubdomainProblem } from '../model/names';

/**
 * The file a published version holds once it is complete. Promotion writes it last, so a
 * version folder without it is still being written (or was abandoned) and is never served.
 */
export const READY_FILE = 'READY';

/** Where the registry is mounted, read-only, in every server pod. */
export const REGISTRY_MOUNT = '/models';

/** How the registry claim may be shared between nodes. */
export enum RegistryAccess {
  /** One node at a time: replicas scheduled on other nodes stay in ContainerCreating (Multi-Attach). */
  READ_WRITE_ONCE = 'ReadWriteOnce',
  /** Many nodes at once (NFS, CephFS, EFS, Filestore...): replicas spread freely. */
  READ_WRITE_MANY = 'ReadWriteMany',
  /** Many nodes, read-only: fine for servers, but promotion must write through another claim on the same volume. */
  READ_ONLY_MANY = 'ReadOnlyMany',
}

/** Options of a registry read from an existing claim. */
export interface RegistryClaimOptions {
  /**
   * The claim's access mode, as the cluster has it. Not read from the cluster (synth is
   * offline), so say it: a ReadWriteOnce registry read by replicas on several nodes is
   * warned about at synth.
   */
  readonly access: RegistryAccess;
}

/**
 * Where approved models are published and served from: a claim holding
 * `<model>/<integer version>/`, each version complete once its `READY` file exists.
 *
 * Servers mount it read-only and never read the pipeline's workspace or any Job, so they
 * keep serving when every pipeline Job has been deleted (TTL).
 */
export class ModelRegistry {
  /** A registry on an existing PersistentVolumeClaim of the server's namespace. */
  public static fromClaimName(claimName: string, options: RegistryClaimOptions): ModelRegistry {
    return new ModelRegistry(claimName, options.access);
  }

  private constructor(public readonly claimName: string, public readonly access: RegistryAccess) {}

  /** Why this registry cannot be mounted, or undefined when it can. */
  public problem(): string | undefined {
    const problem = dnsSubdomainProblem(this.claimName);
    if (problem) return `registry claim '${this.claimName}' is not a valid claim name: ${problem}`;
    if (!Object.values(RegistryAccess).includes(this.access)) {
      return `registry access '${this.access}' is not an access mode; use RegistryAccess.READ_WRITE_MANY, READ_ONLY_MANY or READ_WRITE_ONCE`;
    }
    return undefined;
  }

  /** The folder of `model` inside a server pod: its integer version folders are below it. */
  public modelPath(model: string): string {
    return `${REGISTRY_MOUNT}/${model}`;
  }
}
