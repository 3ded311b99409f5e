import { dnsSubdomainProblem } from '../model/names';

/** Where each claim a batch inference reads or writes is mounted: `<root>/<claim>`. */
export const BATCH_CLAIMS_MOUNT = '/mnt/claims';

/**
 * Where a batch inference reads its dataset or writes its scores: a folder on an existing
 * claim (mounted into the pod) or an object-store or HTTP(S) URI (passed as text; the
 * scoring container fetches or uploads it with its own credentials).
 */
export class BatchData {
  /** The folder `path` on the existing PersistentVolumeClaim `claimName` of the namespace. */
  public static fromClaim(claimName: string, path: string): BatchData {
    return new BatchData(claimName, path.replace(/^\/+|\/+$/g, ''), undefined);
  }

  /** An object-store prefix or URL such as `s3://bucket/scores` or `gs://bucket/customers/`. */
  public static fromUri(uri: string): BatchData {
    return new BatchData(undefined, undefined, uri.replace(/\/+$/, ''));
  }

  private constructor(
    /** The claim, for a folder on a claim. */
    public readonly claimName: string | undefined,
    /** The folder inside the claim, without leading or trailing '/'. */
    public readonly path: string | undefined,
    /** The URI, without a trailing '/'. */
    public readonly uri: string | undefined,
  ) {}

  /** The location as the container sees it: a path under the claim's mount, or the URI. */
  public location(): string {
    if (this.uri !== undefined) return this.uri;
    return [BATCH_CLAIMS_MOUNT, this.claimName, this.path].filter((p) => p !== '').join('/');
  }

  /** Why this location cannot be used as `prop`, or undefined. */
  public problem(prop: string): string | undefined {
    if (this.uri !== undefined) {
      return /^[a-z][a-z0-9+.-]*:\/\/[^/\s]+/.test(this.uri) ? undefined
        : `'${prop}' URI '${this.uri}' is not a URI with a scheme and a host or bucket; write e.g. s3://bucket/prefix`;
    }
    const claim = dnsSubdomainProblem(this.claimName!);
    if (claim) return `'${prop}' claim '${this.claimName}' is not a valid claim name: ${claim}`;
    if (this.path!.split('/').includes('..')) return `'${prop}' path '${this.path}' leaves the claim ('..'); name a folder inside it`;
    return undefined;
  }
}
