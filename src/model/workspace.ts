import { Size, SizeRoundingBehavior } from 'cdk8s';
import { dnsSubdomainProblem } from './names';
import { sizeQuantity } from './resources';

/** The largest workspace the pipeline declares: 1024Ti, in MiB. */
const MAX_WORKSPACE_MIB = 1024 * 1024 * 1024;

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
    return new Workspace(undefined, options.size ?? Size.gibibytes(10), options.storageClassName, options.access ?? WorkspaceAccess.READ_WRITE_ONCE);
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

  /**
   * What Kubernetes would refuse, or what is a unit mistake, each naming the option and the
   * fix; checked by the pipeline, so that its construct path prefixes the message.
   */
  public problems(): string[] {
    const problems: string[] = [];
    if (this.existingClaimName !== undefined) {
      const problem = dnsSubdomainProblem(this.existingClaimName);
      if (problem) problems.push(`workspace claim name '${this.existingClaimName}' is invalid: ${problem}`);
    }
    if (this.size !== undefined) {
      const mebibytes = this.size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
      if (!Number.isInteger(mebibytes) || mebibytes < 1 || mebibytes > MAX_WORKSPACE_MIB) {
        problems.push(`workspace 'size' must be a whole number of mebibytes from 1 to ${MAX_WORKSPACE_MIB} (1024Ti, more than any volume), `
          + `got ${mebibytes} MiB; e.g. Size.gibibytes(20)`);
      }
    }
    if (this.storageClassName !== undefined && dnsSubdomainProblem(this.storageClassName)) {
      problems.push(`workspace 'storageClassName' '${this.storageClassName}' is invalid: ${dnsSubdomainProblem(this.storageClassName)}`);
    }
    if (!Object.values(WorkspaceAccess).includes(this.access)) {
      problems.push(`workspace access '${String(this.access)}' is not an access mode; use one of WorkspaceAccess.READ_WRITE_ONCE, READ_WRITE_MANY or READ_WRITE_ONCE_POD`);
    }
    return problems;
  }

  /** The claim's requested storage as a Kubernetes quantity, e.g. `50Gi`; undefined for an existing claim. */
  public get storageQuantity(): string | undefined {
    return this.size && sizeQuantity(this.size);
  }

  private constructor(
    /** Name of an existing claim; undefined when the pipeline declares its own. */
    public readonly existingClaimName: string | undefined,
    public readonly size: Size | undefined,
    public readonly storageClassName: string | undefined,
    public readonly access: WorkspaceAccess,
  ) {}
}
