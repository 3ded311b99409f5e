import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { IncomingMessage, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { SimulatorSetupError } from './load';

/** One request the object store answered, in the order they arrived. */
export interface ObjectStoreRequest {
  /** The S3 operation: ListObjectsV2, PutObject, GetObject, HeadObject, DeleteObject, CopyObject. */
  readonly op: string;
  readonly bucket: string;
  /** The object's key; the prefix for ListObjectsV2. */
  readonly key: string;
  /** The access key id of the request's SigV4 credential, if it had one. */
  readonly accessKeyId?: string;
  /** The region of the SigV4 credential scope. */
  readonly region?: string;
  readonly status: number;
}

export interface ObjectStoreOptions {
  /** The buckets that exist, empty. */
  readonly buckets: readonly string[];
  /** The only access key id the store accepts. */
  readonly accessKeyId: string;
  /**
   * Called before a request is answered; the answer waits for the promise. Tests use it to
   * hold requests back and force an interleaving (two promotions racing for one version).
   */
  readonly before?: (req: ObjectStoreRequest) => Promise<void> | void;
}

interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: Date;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * A small model of the Amazon S3 REST API on http://127.0.0.1:<port>, path-style
 * (`/<bucket>/<key>`), for running the library's object-store scripts with the real AWS CLI.
 * Not a real S3: one process, no versioning, ACLs, multipart uploads (the CLI uses them only
 * above 8 MB) or checksums other than Content-MD5. Every rule below cites the page of the
 * Amazon S3 API Reference (https://docs.aws.amazon.com/AmazonS3/latest/API/) it follows.
 *
 * Authentication: the Authorization header must be AWS Signature Version 4 and its
 * Credential must name `accessKeyId` (API Reference, "Authenticating Requests (AWS Signature
 * Version 4)", sigv4-auth-using-authorization-header.html). The signature itself is NOT
 * verified: the model checks which key a request was signed with, not that the secret was right.
 *
 * Consistency: every write is visible to every later read and list (the S3 User Guide's
 * strong read-after-write consistency), trivially, in one process.
 */
export class ObjectStoreModel {
  readonly requests: ObjectStoreRequest[] = [];
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private readonly server: http.Server;
  private clock = Date.UTC(2026, 0, 1);

  constructor(private readonly options: ObjectStoreOptions) {
    for (const b of options.buckets) this.buckets.set(b, new Map());
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.handle(req, Buffer.concat(chunks), res).catch((e: unknown) => {
          res.statusCode = 500;
          res.end(errorXml('InternalError', String(e)));
        });
      });
    });
  }

  /** Starts listening on a free loopback port; resolves to the endpoint URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.endpoint;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Every object of a bucket: key -> content (utf8). */
  objects(bucket: string): Record<string, string> {
    const b = this.buckets.get(bucket) ?? new Map();
    return Object.fromEntries([...b.keys()].sort().map((k) => [k, b.get(k)!.body.toString('utf8')]));
  }

  /** Writes an object directly, as another writer would have (a test's starting state). */
  put(bucket: string, key: string, content: string): void {
    this.store(bucket).set(key, this.object(Buffer.from(content)));
  }

  /** Deletes an object directly. */
  delete(bucket: string, key: string): void {
    this.store(bucket).delete(key);
  }

  private store(bucket: string): Map<string, StoredObject> {
    const b = this.buckets.get(bucket);
    if (!b) throw new Error(`bucket ${bucket} does not exist in the object store model`);
    return b;
  }

  private object(body: Buffer): StoredObject {
    // Whole seconds, one apart: deterministic, and ordered as the writes were.
    this.clock += 1000;
    return { body, etag: `"${createHash('md5').update(body).digest('hex')}"`, lastModified: new Date(this.clock) };
  }

  private async handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = req.method ?? 'GET';
    const query = url.searchParams;
    const op = key === '' ? (method === 'GET' && query.get('list-type') === '2' ? 'ListObjectsV2' : `${method} bucket`)
      : method === 'PUT' ? (req.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject')
        : method === 'GET' ? 'GetObject' : method === 'HEAD' ? 'HeadObject' : method === 'DELETE' ? 'DeleteObject' : `${method} object`;
    const credential = /^AWS4-HMAC-SHA256 Credential=([^/,]+)\/\d{8}\/([^/,]+)\/s3\/aws4_request/.exec(String(req.headers.authorization ?? ''));
    const record = { op, bucket, key: op === 'ListObjectsV2' ? query.get('prefix') ?? '' : key, accessKeyId: credential?.[1], region: credential?.[2] };
    await this.options.before?.({ ...record, status: 0 });
    const answer = (status: number, xml?: string, headers: Record<string, string> = {}) => {
      this.requests.push({ ...record, status });
      res.writeHead(status, { ...headers, ...(xml !== undefined && { 'Content-Type': 'application/xml' }) });
      res.end(method === 'HEAD' ? undefined : xml);
    };

    // Authenticating Requests (AWS Signature Version 4): a request without a SigV4
    // Authorization header is anonymous, refused (the buckets are private): AccessDenied.
    // An unknown access key id: InvalidAccessKeyId, 403 (API Reference, "Error responses", ErrorResponses.html).
    if (!credential) return answer(403, errorXml('AccessDenied', 'Access Denied'));
    if (credential[1] !== this.options.accessKeyId) {
      return answer(403, errorXml('InvalidAccessKeyId', 'The AWS access key Id you provided does not exist in our records.'));
    }
    const objects = this.buckets.get(bucket);
    // Error responses: NoSuchBucket, 404, "The specified bucket does not exist."
    if (!objects) return answer(404, errorXml('NoSuchBucket', 'The specified bucket does not exist.'));

    switch (op) {
      case 'ListObjectsV2': return answer(200, this.list(objects, bucket, query));
      case 'PutObject': {
        // PutObject (API_PutObject.html): Content-MD5, when sent, must match the body, else BadDigest 400.
        const md5 = req.headers['content-md5'];
        if (typeof md5 === 'string' && md5 !== createHash('md5').update(body).digest('base64')) {
          return answer(400, errorXml('BadDigest', 'The Content-MD5 you specified did not match what we received.'));
        }
        const stored = this.object(body);
        objects.set(key, stored);
        return answer(200, '', { ETag: stored.etag });
      }
      case 'CopyObject': {
        // CopyObject (API_CopyObject.html): x-amz-copy-source is `<bucket>/<key>`, URL-encoded; the answer is a CopyObjectResult.
        const source = decodeURIComponent(String(req.headers['x-amz-copy-source']).replace(/^\//, ''));
        const [fromBucket, ...fromKey] = source.split('/');
        const from = this.buckets.get(fromBucket)?.get(fromKey.join('/'));
        if (!from) return answer(404, errorXml('NoSuchKey', 'The specified key does not exist.'));
        const stored = this.object(from.body);
        objects.set(key, stored);
        return answer(200, `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult xmlns="${XMLNS}"><LastModified>${stored.lastModified.toISOString()}</LastModified><ETag>${xmlText(stored.etag)}</ETag></CopyObjectResult>`);
      }
      case 'GetObject':
      case 'HeadObject': {
        const o = objects.get(key);
        // GetObject: NoSuchKey 404 for a missing key (the caller may list the bucket); HeadObject: 404 without a body (API_HeadObject.html).
        if (!o) return answer(404, errorXml('NoSuchKey', 'The specified key does not exist.'));
        const headers = { 'ETag': o.etag, 'Last-Modified': o.lastModified.toUTCString(), 'Content-Length': String(o.body.length), 'Content-Type': 'binary/octet-stream', 'Accept-Ranges': 'bytes' };
        this.requests.push({ ...record, status: 200 });
        res.writeHead(200, headers);
        res.end(op === 'HeadObject' ? undefined : o.body);
        return;
      }
      case 'DeleteObject':
        // DeleteObject (API_DeleteObject.html): 204, whether or not the key existed.
        objects.delete(key);
        return answer(204);
      default:
        return answer(501, errorXml('NotImplemented', `the object store model does not implement ${op}`));
    }
  }

  /**
   * ListObjectsV2 (API_ListObjectsV2.html): keys in UTF-8 binary order starting with
   * `prefix`; with a `delimiter`, keys holding it after the prefix are rolled up into
   * CommonPrefixes (each counted once against max-keys, default 1000); `start-after` and the
   * opaque `continuation-token` resume after a key; IsTruncated and NextContinuationToken
   * when more remain; `encoding-type=url` URL-encodes Key, Prefix, Delimiter, StartAfter and
   * CommonPrefixes' Prefix in the answer (the AWS CLI always asks for it, and decodes).
   */
  private list(objects: Map<string, StoredObject>, bucket: string, q: URLSearchParams): string {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(Number(q.get('max-keys') ?? 1000), 1000);
    const token = q.get('continuation-token');
    const after = token !== null ? Buffer.from(token, 'base64').toString('utf8') : q.get('start-after') ?? '';
    const url = q.get('encoding-type') === 'url';
    const enc = (s: string) => xmlText(url ? encodeURIComponent(s) : s);
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const entries: Array<{ key?: string; common?: string }> = [];
    let last = '';
    let truncated = false;
    for (const k of keys) {
      const cut = delimiter === '' ? -1 : k.indexOf(delimiter, prefix.length);
      const name = cut < 0 ? k : k.slice(0, cut + delimiter.length);
      if (Buffer.compare(Buffer.from(name), Buffer.from(after)) <= 0 || (entries.length > 0 && name === last)) continue;
      if (entries.length === maxKeys) {
        truncated = true;
        break;
      }
      entries.push(cut < 0 ? { key: k } : { common: name });
      last = name;
    }
    const contents = entries.filter((e) => e.key !== undefined).map((e) => {
      const o = objects.get(e.key!)!;
      return `<Contents><Key>${enc(e.key!)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlText(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    }).join('');
    const commons = entries.filter((e) => e.common !== undefined).map((e) => `<CommonPrefixes><Prefix>${enc(e.common!)}</Prefix></CommonPrefixes>`).join('');
    return `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}"><Name>${xmlText(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>`
      + (delimiter !== '' ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '')
      + `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${entries.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>`
      + (url ? '<EncodingType>url</EncodingType>' : '')
      + (token !== null ? `<ContinuationToken>${xmlText(token)}</ContinuationToken>` : '')
      + (truncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64')}</NextContinuationToken>` : '')
      + `${contents}${commons}</ListBucketResult>`;
  }
}

/** An error answer (API Reference, "Error responses", ErrorResponses.html#RESTErrorResponses). */
function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlText(message)}</Message></Error>`;
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** How to install the AWS CLI v2 the object-store tests and simulations run. */
export const HOW_TO_GET_AWS = 'install the AWS CLI v2 (apt-get install awscli on Debian 12 gives 2.9.19, what .ci/run installs), or set MLOPS_AWS to its path';

/**
 * The real AWS CLI v2: $MLOPS_AWS, else /usr/bin/aws (Debian's), else the first `aws` on PATH
 * that is version 2 (a pip-installed version 1 on PATH lacks what the scripts use). Throws
 * with how to get one when there is none.
 */
export function findAws(): string {
  const candidates = process.env.MLOPS_AWS ? [process.env.MLOPS_AWS] : ['/usr/bin/aws', ...(process.env.PATH ?? '').split(':').map((d) => `${d}/aws`)];
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    try {
      const out = execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
      if (out.startsWith('aws-cli/2.')) return file;
    } catch {
      // not a working aws: try the next
    }
  }
  throw new SimulatorSetupError(`no AWS CLI version 2 found (${candidates.slice(0, 3).join(', ')}...): ${HOW_TO_GET_AWS}`);
}
