import { Size } from 'cdk8s';

/** How pods may share the workspace volume. */
export enum WorkspaceAccess {
  /**
   * One node at a time. Works on every storage class; parallel steps that land on other
   * nodes wait in ContainerCreating (Multi-Attach) until the volume is free.
   */
  READ_WRITE_ONCE = 'ReadWriteOnce',
  /** Many nodes at once (NFS, CephFS, EFS, Filestore...): parallel steps really overlap. */
  READ_WRITE_MANY = 'ReadWriteMany',
  /** One pod at a time (Kubernetes 1.27 beta); serializes every step that mounts it. */
  READ_WRITE_ONCE_POD = 'ReadWriteOncePod',
}

/** Options of a workspace the pipeline declares. */
export interface WorkspaceClaimOptions {
  /**
   * Capacity requested.
   * @default Size.gibibytes(10)
   */
  readonly size?: Size;
  /**
   * Storage class of the claim.
   * @default - the cluster's default storage class
   */
  readonly storageClassName?: string;
  /**
   * Access mode. See `WorkspaceAccess` for the trade-off.
   * @default WorkspaceAccess.READ_WRITE_ONCE - works everywhere; choose READ_WRITE_MANY
   * when parallel steps must overlap across nodes
   */
  readonly access?: WorkspaceAccess;
}

/**
 * Where artifacts live: one persistent volume claim mounted by every step that reads or
 * writes an artifact, at a path derived from pipeline, step and artifact.
 */
export class Workspace {
  /** A claim the pipeline declares, named `<pipeline>-workspace`. */
  public static claim(options: WorkspaceClaimOptions = {}): Workspace {
    return new Workspace(undefined, options.size ?? Size.gibibytes(10), options.storageClassName,
      options.access ?? WorkspaceAccess.READ_WRITE_ONCE);
  }

  /**
   * An existing claim the pipeline mounts but does not create.
   *
   * @param claimName the PersistentVolumeClaim's name, in the pipeline's namespace
   * @param access the claim's access mode, used to warn about parallel steps
   */
  public static fromClaimName(claimName: string, access: WorkspaceAccess = WorkspaceAccess.READ_WRITE_ONCE): Workspace {
    return new Workspace(claimName, undefined, undefined, access);
  }

  private constructor(
    /** Name of an existing claim; undefined when the pipeline declares its own. */
    public readonly existingClaimName: string | undefined,
    public readonly size: Size | undefined,
    public readonly storageClassName: string | undefined,
    public readonly access: WorkspaceAccess,
  ) {}
}
