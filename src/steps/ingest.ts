import type { Construct } from 'constructs';
import { Dataset } from '../model/artifact';
import type { EnvVarValue } from '../model/plus-values';
import { BatchStep } from '../model/batch-step';
import type { StepOptions } from '../model/step-options';
import { StepVolume } from '../model/step-volume';
import { DataSource, DataSourceType } from './data-source';

/** Where `Ingest` mounts the claim of a `DataSource.claim` source, read-only. */
export const SOURCE_MOUNT = '/mnt/source';

/** The image of the built-in copy: rclone's official image, one static binary. */
export const DEFAULT_COPY_IMAGE = 'rclone/rclone:1.68.2';

/** Props of an `Ingest` step. */
export interface IngestProps extends StepOptions {
  /** Where the data comes from. */
  readonly source: DataSource;
  /**
   * Image of the built-in copy, used for object stores and URLs when `image` is not set.
   * Must run `rclone` (its entrypoint) with the config in env vars.
   * @default 'rclone/rclone:1.68.2'
   */
  readonly copyImage?: string;
}

/**
 * Brings data into the pipeline: `Dataset` out (`MLOPS_OUTPUT_DATASET`).
 *
 * An object store (`s3://`, `gs://`), an HTTP(S) URL or a path on a claim needs no code:
 * without `image` the step runs a built-in copy (rclone, configured by env vars only; HOME
 * and its config on `/tmp`, so it runs as uid 1000 with a read-only root). With `image` the
 * user's container runs instead and gets `MLOPS_SOURCE_URI` (and the credentials' env), or
 * `MLOPS_SOURCE_PATH` for a claim, mounted read-only at `/mnt/source`. A database source
 * always needs `image`; its URL reaches the container from the Secret as `MLOPS_SOURCE_URL`.
 *
 * @example
 * new Ingest(pipeline, 'ingest', {
 *   source: DataSource.objectStore('s3://acme-ml/churn/2024/', ObjectStoreCredentials.s3(Secret.fromSecretName(chart, 'aws', 'aws-credentials'))),
 * });
 */
export class Ingest extends BatchStep {
  public constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id, builtInCopy(props));
    const source = props.source;
    const problem = source.problem();
    if (problem) throw new Error(`[${this.node.path}] ${problem}`);
    if (source.type === DataSourceType.DATABASE && props.image === undefined) {
      throw new Error(`[${this.node.path}] a database source needs 'image': a container that reads MLOPS_SOURCE_URL `
        + 'and writes the rows to MLOPS_OUTPUT_DATASET (there is no built-in copy for databases)');
    }
    this.addOutput('dataset', Dataset);
    if (source.urlSecret) {
      this.addLibraryEnv('MLOPS_SOURCE_URL', { valueFrom: { secretKeyRef: { name: source.urlSecret.secret.name, key: source.urlSecret.key } } });
    } else if (source.type === DataSourceType.CLAIM) {
      this.addLibraryEnv('MLOPS_SOURCE_PATH', { value: sourcePath(source) });
    } else {
      this.addLibraryEnv('MLOPS_SOURCE_URI', { value: source.uri });
    }
    for (const [name, value] of Object.entries(rcloneEnv(source))) this.addLibraryEnv(name, value);
  }

  /** `dataset`: the directory the data is copied into. */
  public override get outputs(): { readonly dataset: Dataset } {
    return super.outputs as { dataset: Dataset };
  }
}

/**
 * The props with the claim of a claim source mounted, and with the built-in copy's image and
 * arguments when the user names no image.
 */
function builtInCopy(props: IngestProps): StepOptions {
  const source = props.source;
  const withClaim: StepOptions = source.type !== DataSourceType.CLAIM ? props : {
    ...props,
    volumes: [...(props.volumes ?? []), { mountPath: SOURCE_MOUNT, volume: StepVolume.fromClaimName(source.claimName!), readOnly: true }],
  };
  if (props.image !== undefined || source.type === DataSourceType.DATABASE) return withClaim;
  const out = '$(MLOPS_OUTPUT_DATASET)';
  const args = source.type === DataSourceType.URL ? ['copyurl', source.uri, out, '--auto-filename']
    // rclone's local backend: no remote to configure.
    : source.type === DataSourceType.CLAIM ? ['copy', sourcePath(source), out]
      : ['copy', `source:${source.uri.replace(/^[a-z0-9]+:\/\//i, '')}`, out];
  return { image: props.copyImage ?? DEFAULT_COPY_IMAGE, args, ...withClaim };
}

/** Where the container sees a claim source: the path under the claim's mount. */
function sourcePath(source: DataSource): string {
  return source.uri.replace(/\/+$/, '') === '' ? SOURCE_MOUNT : `${SOURCE_MOUNT}/${source.uri}`;
}

/**
 * rclone's remote `source`, configured by env vars (RCLONE_CONFIG_<REMOTE>_<OPTION>), with
 * keys read from the Secret, so no config file is needed; its cache goes to /tmp.
 */
function rcloneEnv(source: DataSource): Record<string, EnvVarValue> {
  // HOME is /tmp in every step, so rclone's config and cache land on the writable emptyDir.
  const env: Record<string, EnvVarValue> = {};
  if (source.type !== DataSourceType.OBJECT_STORE) return env;
  const c = source.credentials;
  const fromSecret = (key: string): EnvVarValue => ({ valueFrom: { secretKeyRef: { name: c!.secret.name, key } } });
  if (source.scheme === 's3') {
    env.RCLONE_CONFIG_SOURCE_TYPE = { value: 's3' };
    env.RCLONE_CONFIG_SOURCE_PROVIDER = { value: c?.endpoint ? 'Other' : 'AWS' };
    if (c) {
      env.RCLONE_CONFIG_SOURCE_ACCESS_KEY_ID = fromSecret(c.keys.accessKeyId);
      env.RCLONE_CONFIG_SOURCE_SECRET_ACCESS_KEY = fromSecret(c.keys.secretAccessKey);
      if (c.region) env.RCLONE_CONFIG_SOURCE_REGION = { value: c.region };
      if (c.endpoint) env.RCLONE_CONFIG_SOURCE_ENDPOINT = { value: c.endpoint };
    } else {
      env.RCLONE_CONFIG_SOURCE_ENV_AUTH = { value: 'true' };
    }
  } else {
    env.RCLONE_CONFIG_SOURCE_TYPE = { value: 'google cloud storage' };
    if (c) env.RCLONE_CONFIG_SOURCE_SERVICE_ACCOUNT_CREDENTIALS = fromSecret(c.keys.serviceAccountJson);
    else env.RCLONE_CONFIG_SOURCE_ENV_AUTH = { value: 'true' };
  }
  return env;
}
