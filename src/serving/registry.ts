import { Duration } from 'cdk8s';
import { dnsSubdomainProblem } from '../model/names';
import { DEFAULT_OBJECT_STORE_CLIENT_IMAGE, objectStoreProblem, parseS3Uri } from '../model/object-store';
import type { RegistryCredentials, ObjectStorePrefix } from '../model/object-store';

export { DEFAULT_OBJECT_STORE_CLIENT_IMAGE } from '../model/object-store';
export type { RegistryCredentials } from '../model/object-store';

/**
 * The file a published version holds once it is complete. Promotion writes it last, so a
 * version folder without it is still being written (or was abandoned) and is never served.
 */
export const READY_FILE = 'READY';

/**
 * Where the registry is in every server pod: the claim mounted read-only, or (object store)
 * an emptyDir that an init container and a sync sidecar fill with ready versions, laid out
 * as the claim is (`<model>/<version>/`).
 */
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

/** Options of a registry on an S3 (or S3-compatible) bucket prefix. */
export interface RegistryObjectStoreOptions {
  /**
   * The existing Secret and its keys holding the access key. Only the names reach the YAML:
   * pods read the values through `secretKeyRef` (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
   */
  readonly credentials: RegistryCredentials;
  /**
   * The S3 API endpoint of an S3-compatible store (MinIO, Ceph RGW...), passed as the CLI's
   * `--endpoint-url`; requests then use path-style addressing, which such stores expect.
   * @default - AWS S3 of `region`
   */
  readonly endpoint?: string;
  /**
   * The region requests are signed for.
   * @default 'us-east-1' - what the AWS CLI needs a region for when the store has none (MinIO)
   */
  readonly region?: string;
  /**
   * The image the registry's init containers and sync sidecars run on: bash and the AWS CLI v2.
   * @default 'amazon/aws-cli:2.9.19' - the official image, of the version the library's tests run
   */
  readonly clientImage?: string;
  /**
   * How often a server's sync sidecar looks for a newly ready version to download.
   * @default Duration.seconds(30) - a new version reaches the pods within half a minute,
   * with a few cheap LIST and HEAD requests per pod
   */
  readonly syncInterval?: Duration;
}

/**
 * Where approved models are published and served from: `<model>/<integer version>/`, each
 * version complete once its `READY` file exists, on a claim or on an object-store prefix.
 *
 * Servers never read the pipeline's workspace or any Job, so they keep serving when every
 * pipeline Job has been deleted (TTL).
 */
export class ModelRegistry {
  /** A registry on an existing PersistentVolumeClaim of the server's namespace. */
  public static fromClaimName(claimName: string, options: RegistryClaimOptions): ModelRegistry {
    return new ModelRegistry(claimName, options.access, undefined);
  }

  /**
   * A registry on an S3 (or S3-compatible) prefix, `s3://<bucket>/<prefix>`, read and written
   * with the AWS CLI: promotion uploads `<prefix>/<model>/<version>/` with `READY` last; server
   * pods download ready versions into an emptyDir laid out as a claim registry
   * (`/models/<model>/<version>/`), so every runtime finds them as it would on a claim.
   *
   * @example
   * ModelRegistry.fromObjectStore('s3://ml-models/registry', {
   *   credentials: { secret: 'registry-s3', accessKeyIdKey: 'access-key-id', secretAccessKeyKey: 'secret-access-key' },
   *   endpoint: 'http://minio.storage:9000',
   * });
   */
  public static fromObjectStore(uri: string, options: RegistryObjectStoreOptions): ModelRegistry {
    const parsed = parseS3Uri(uri);
    const interval = options?.syncInterval ?? Duration.seconds(30);
    return new ModelRegistry(undefined, undefined, {
      uri,
      bucket: typeof parsed === 'string' ? '' : parsed.bucket,
      prefix: typeof parsed === 'string' ? '' : parsed.prefix,
      credentials: options?.credentials,
      endpoint: options?.endpoint,
      region: options?.region ?? 'us-east-1',
      clientImage: options?.clientImage ?? DEFAULT_OBJECT_STORE_CLIENT_IMAGE,
      syncSeconds: interval.toMilliseconds() / 1000,
    });
  }

  private constructor(
    /** The registry's claim; undefined on an object store. */
    public readonly claimName: string | undefined,
    /** The claim's access mode; undefined on an object store. */
    public readonly access: RegistryAccess | undefined,
    /** The registry's bucket prefix; undefined on a claim. */
    public readonly objectStore: ObjectStorePrefix | undefined,
  ) {}

  /** Why this registry cannot be used, or undefined when it can. */
  public problem(): string | undefined {
    if (this.objectStore) return objectStoreProblem(this.objectStore);
    const problem = dnsSubdomainProblem(this.claimName!);
    if (problem) return `registry claim '${this.claimName}' is not a valid claim name: ${problem}`;
    if (!Object.values(RegistryAccess).includes(this.access!)) {
      return `registry access '${this.access}' is not an access mode; use RegistryAccess.READ_WRITE_MANY, READ_ONLY_MANY or READ_WRITE_ONCE`;
    }
    return undefined;
  }

  /** The registry for messages: `claim 'x'` or the `s3://` URI. */
  public toString(): string {
    return this.objectStore ? this.objectStore.uri : `claim '${this.claimName}'`;
  }

  /** The folder of `model` inside a server pod: its integer version folders are below it. */
  public modelPath(model: string): string {
    return `${REGISTRY_MOUNT}/${model}`;
  }
}
