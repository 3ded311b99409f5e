import { dnsSubdomainProblem } from '../model/names';
import type { NamedReference } from '../model/plus-values';

/** Keys of an existing Secret that hold S3 credentials. */
export interface S3CredentialOptions {
  /**
   * Key holding the access key id.
   * @default 'AWS_ACCESS_KEY_ID'
   */
  readonly accessKeyIdKey?: string;
  /**
   * Key holding the secret access key.
   * @default 'AWS_SECRET_ACCESS_KEY'
   */
  readonly secretAccessKeyKey?: string;
  /**
   * The bucket's region.
   * @default - the client's default (us-east-1)
   */
  readonly region?: string;
  /**
   * Endpoint of an S3-compatible store (MinIO, Ceph, R2).
   * @default - AWS S3
   */
  readonly endpoint?: string;
}

/** Credentials for an object store, read from an existing Secret: the YAML holds only its name. */
export class ObjectStoreCredentials {
  /** S3 (or S3-compatible) access keys in `secret`. */
  public static s3(secret: NamedReference, options: S3CredentialOptions = {}): ObjectStoreCredentials {
    return new ObjectStoreCredentials('s3', secret, {
      accessKeyId: options.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID',
      secretAccessKey: options.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY',
    }, options.region, options.endpoint);
  }

  /** A Google Cloud service account key (JSON) under `key` in `secret`. */
  public static gcs(secret: NamedReference, key = 'key.json'): ObjectStoreCredentials {
    return new ObjectStoreCredentials('gs', secret, { serviceAccountJson: key });
  }

  private constructor(
    /** The URI scheme these credentials are for: `s3` or `gs`. */
    public readonly scheme: string,
    /** The Secret holding them. */
    public readonly secret: NamedReference,
    /** Which key of the Secret holds what. */
    public readonly keys: Readonly<Record<string, string>>,
    /** S3 region, if given. */
    public readonly region?: string,
    /** S3-compatible endpoint, if given. */
    public readonly endpoint?: string,
  ) {}
}

/** The kinds of source `Ingest` reads. */
export enum DataSourceType {
  OBJECT_STORE = 'object-store',
  URL = 'url',
  DATABASE = 'database',
  CLAIM = 'claim',
}

/**
 * Where `Ingest` reads its data. Object stores, URLs and paths on a claim are copied by a
 * built-in copy (rclone on its public image) unless the step names its own image; a database
 * needs the user's image, which gets the URL from the Secret as `MLOPS_SOURCE_URL`.
 */
export class DataSource {
  /**
   * An object-store prefix or object: `s3://bucket/prefix` or `gs://bucket/prefix`.
   * @param credentials from an existing Secret; without them the copy uses the pod's own
   * cloud identity (IRSA, Workload Identity) or anonymous access
   */
  public static objectStore(uri: string, credentials?: ObjectStoreCredentials): DataSource {
    return new DataSource(DataSourceType.OBJECT_STORE, uri, credentials);
  }

  /** One file over HTTP(S), e.g. `https://example.com/churn.csv`. */
  public static url(url: string): DataSource {
    return new DataSource(DataSourceType.URL, url);
  }

  /**
   * A file or folder on an existing PersistentVolumeClaim of the pipeline's namespace (data
   * another system drops there, a shared dataset volume). The step mounts the claim
   * read-only; the path reaches the container as `MLOPS_SOURCE_PATH`.
   * @param claimName the claim, e.g. 'landing-zone'
   * @param path inside the claim, relative, e.g. 'churn/2026-10/'; '' for the whole claim
   */
  public static claim(claimName: string, path: string): DataSource {
    return new DataSource(DataSourceType.CLAIM, path, undefined, undefined, claimName);
  }

  /** A database whose connection URL is under `key` in the existing Secret `secret`. */
  public static database(secret: NamedReference, key: string): DataSource {
    return new DataSource(DataSourceType.DATABASE, '', undefined, { secret, key });
  }

  private constructor(
    /** What kind of source this is. */
    public readonly type: DataSourceType,
    /** The URI; the path inside the claim for a claim; empty for a database. */
    public readonly uri: string,
    /** Object-store credentials, if any. */
    public readonly credentials?: ObjectStoreCredentials,
    /** Where a database's URL is, for a database. */
    public readonly urlSecret?: { readonly secret: NamedReference; readonly key: string },
    /** The claim, for a path on a claim. */
    public readonly claimName?: string,
  ) {}

  /** The URI's scheme (`s3`, `gs`, `https`), lower case; empty when it has none (and for a claim). */
  public get scheme(): string {
    if (this.type === DataSourceType.CLAIM) return '';
    return /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(this.uri)?.[1].toLowerCase() ?? '';
  }

  /** Why this source cannot be read, naming the value and the fix; undefined when it can. */
  public problem(): string | undefined {
    const scheme = this.scheme;
    if (this.type === DataSourceType.OBJECT_STORE) {
      if (scheme !== 's3' && scheme !== 'gs') {
        return `'source' URI '${this.uri}' has ${scheme ? `the unknown scheme '${scheme}'` : 'no scheme'}; `
          + 'DataSource.objectStore takes s3://bucket/prefix or gs://bucket/prefix (use DataSource.url for http(s)://)';
      }
      if (!/^[a-z0-9]+:\/\/[^/\s]+/.test(this.uri)) return `'source' URI '${this.uri}' names no bucket; write ${scheme}://<bucket>/<prefix>`;
      if (this.credentials && this.credentials.scheme !== scheme) {
        return `'source' URI '${this.uri}' is ${scheme}:// but its credentials are for ${this.credentials.scheme}://; `
          + `use ObjectStoreCredentials.${scheme === 's3' ? 's3' : 'gcs'}(...) for this URI`;
      }
    }
    if (this.type === DataSourceType.CLAIM) {
      const claimProblem = dnsSubdomainProblem(this.claimName!);
      if (claimProblem) return `'source' claim name '${this.claimName}' is invalid: ${claimProblem}`;
      if (this.uri.startsWith('/') || this.uri.split('/').includes('..')) {
        return `'source' path '${this.uri}' on claim '${this.claimName}' must be relative to the claim, without '..'; e.g. DataSource.claim('${this.claimName}', 'churn/2026-10/')`;
      }
    }
    if (this.type === DataSourceType.URL && scheme !== 'http' && scheme !== 'https') {
      return `'source' URL '${this.uri}' has ${scheme ? `the unknown scheme '${scheme}'` : 'no scheme'}; `
        + 'DataSource.url takes http:// or https:// (use DataSource.objectStore for s3:// and gs://)';
    }
    return undefined;
  }
}
