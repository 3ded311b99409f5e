import { dnsSubdomainProblem, imageReferenceProblem } from './names';

/**
 * The AWS CLI image the library's object-store scripts run on: bash, coreutils and `aws`.
 * The same version as the Debian package `awscli` (2.9.19) that the tests run the scripts
 * with against the simulator's S3 model.
 */
export const DEFAULT_OBJECT_STORE_CLIENT_IMAGE = 'amazon/aws-cli:2.9.19';

/** The library's script (`assets/`) that reads and writes a registry on an object store. */
export const OBJECT_STORE_SCRIPT = 'registry-s3.sh';

/** The Secret and its keys holding an S3 access key; names only, never values. */
export interface RegistryCredentials {
  /** The existing Secret of the namespace that holds the access key. */
  readonly secret: string;
  /** The Secret's key holding the access key id (becomes `AWS_ACCESS_KEY_ID`). */
  readonly accessKeyIdKey: string;
  /** The Secret's key holding the secret access key (becomes `AWS_SECRET_ACCESS_KEY`). */
  readonly secretAccessKeyKey: string;
}

/**
 * A prefix of an S3 (or S3-compatible) bucket, and how pods reach it: what a model
 * registry on an object store is, as backends render it (the plain backend mounts nothing:
 * an init container on `clientImage` copies what a pod needs into an emptyDir).
 */
export interface ObjectStorePrefix {
  /** `s3://<bucket>/<prefix>` as the user wrote it, for messages. */
  readonly uri: string;
  readonly bucket: string;
  /** The key prefix inside the bucket, without leading or trailing '/'; '' for the bucket's root. */
  readonly prefix: string;
  readonly credentials: RegistryCredentials;
  /** `--endpoint-url` of an S3-compatible store; undefined for AWS S3. */
  readonly endpoint?: string;
  /** The region requests are signed for. */
  readonly region: string;
  /** The image with bash and the AWS CLI v2. */
  readonly clientImage: string;
  /** How often a server's sync sidecar looks for a newly ready version, in seconds. */
  readonly syncSeconds: number;
}

/** A Secret's key (k8s.io/apimachinery validation.IsConfigMapKey). */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
/**
 * Characters of the key prefix: the "safe characters" of S3 object key names
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html), so the scripts
 * and the CLI's listings never need quoting or URL decoding beyond what the CLI does.
 */
const SAFE_KEY = /^[A-Za-z0-9!_.*'()/-]*$/;
/** An AWS region name such as `eu-west-1` (or whatever an S3-compatible store calls its own). */
const REGION = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;

/** Why `name` is not a bucket name S3 accepts, or undefined. */
export function bucketNameProblem(name: string): string | undefined {
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose buckets)
  if (name.length < 3 || name.length > 63) return `it has ${name.length} characters; S3 bucket names have 3 to 63`;
  if (!/^[a-z0-9.-]+$/.test(name)) return 'S3 bucket names hold only lowercase letters, digits, \'.\' and \'-\'';
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return 'S3 bucket names begin and end with a letter or digit';
  if (name.includes('..')) return 'S3 bucket names have no two adjacent periods';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'S3 bucket names are not formatted as an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) if (name.startsWith(prefix)) return `S3 bucket names do not start with '${prefix}'`;
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']) if (name.endsWith(suffix)) return `S3 bucket names do not end with '${suffix}'`;
  return undefined;
}

/** Parses `s3://bucket/prefix`; a string naming the problem when it is not one. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } | string {
  const m = typeof uri === 'string' ? /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri) : null;
  if (!m) return `registry URI ${JSON.stringify(uri)} is not an S3 URI; write s3://<bucket>/<prefix>, e.g. s3://ml-models/registry`;
  const [, bucket, rest = ''] = m;
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) return `registry URI '${uri}' names the bucket '${bucket}', which S3 rejects: ${bucketProblem}`;
  const prefix = rest.replace(/\/+$/, '');
  if (!SAFE_KEY.test(prefix) || prefix.startsWith('/') || prefix.includes('//') || prefix.split('/').some((s) => s === '.' || s === '..')) {
    return `registry URI '${uri}' has the key prefix '${prefix}': use letters, digits and !_.*'()- in '/'-separated folders, without empty, '.' or '..' folders`;
  }
  return { bucket, prefix };
}

/** Why the prefix's settings cannot work, or undefined. */
export function objectStoreProblem(store: ObjectStorePrefix): string | undefined {
  const parsed = parseS3Uri(store.uri);
  if (typeof parsed === 'string') return parsed;
  const c = store.credentials as Partial<RegistryCredentials> | undefined;
  if (!c) return `registry ${store.uri} has no credentials: set credentials: { secret, accessKeyIdKey, secretAccessKeyKey }, the names of an existing Secret and its keys`;
  const secretProblem = typeof c.secret === 'string' ? dnsSubdomainProblem(c.secret) : 'it is missing';
  if (secretProblem) return `registry ${store.uri}: credentials.secret ${JSON.stringify(c.secret)} is not a Secret name: ${secretProblem}`;
  for (const key of ['accessKeyIdKey', 'secretAccessKeyKey'] as const) {
    const value = c[key];
    if (typeof value !== 'string' || value.length > 253 || !SECRET_KEY.test(value)) {
      return `registry ${store.uri}: credentials.${key} is ${JSON.stringify(value)}, not a key of Secret '${c.secret}'; `
        + 'name the key that holds it (letters, digits, \'-\', \'_\' and \'.\'), e.g. \'access-key-id\'';
    }
  }
  if (store.endpoint !== undefined && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(store.endpoint)) {
    return `registry ${store.uri}: endpoint '${store.endpoint}' is not an http(s) URL of a host and optional port, e.g. http://minio.storage:9000`;
  }
  if (!REGION.test(store.region)) return `registry ${store.uri}: region '${store.region}' is not a region name such as eu-west-1`;
  const imageProblem = imageReferenceProblem(store.clientImage);
  if (imageProblem) return `registry ${store.uri}: clientImage: ${imageProblem}`;
  if (!Number.isInteger(store.syncSeconds) || store.syncSeconds < 1) {
    return `registry ${store.uri}: 'syncInterval' must be a whole number of seconds of at least 1, got ${store.syncSeconds}`;
  }
  return undefined;
}

/**
 * The environment of a container running the object-store scripts: where the registry is,
 * and the access key from its Secret by reference (the YAML holds the names, never the values).
 */
export function objectStoreEnv(store: ObjectStorePrefix, model: string): Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }> {
  return [
    { name: 'MLOPS_S3_BUCKET', value: store.bucket },
    { name: 'MLOPS_S3_MODEL_PREFIX', value: store.prefix === '' ? model : `${store.prefix}/${model}` },
    ...(store.endpoint !== undefined ? [{ name: 'MLOPS_S3_ENDPOINT', value: store.endpoint.replace(/\/$/, '') }] : []),
    { name: 'AWS_DEFAULT_REGION', value: store.region },
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: store.credentials.secret, key: store.credentials.accessKeyIdKey } } },
    { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: store.credentials.secret, key: store.credentials.secretAccessKeyKey } } },
    // The credentials are in the environment: never ask the instance metadata service.
    { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
  ];
}
