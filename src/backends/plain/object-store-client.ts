import type { StepSecurity } from '../../model/container-spec';
import { OBJECT_STORE_SCRIPT, objectStoreEnv } from '../../model/object-store';
import type { ObjectStorePrefix } from '../../model/object-store';
import type * as k8s from './k8s-types';
import { containerSecurityContext } from './security';

/** Options of one container running `registry-s3.sh` on the registry's client image. */
export interface ObjectStoreClientOptions {
  /** The container's name, e.g. `pull-model`. */
  readonly name: string;
  /** The registry's object store. */
  readonly store: ObjectStorePrefix;
  /** The model's folder below the registry's prefix (`MLOPS_S3_MODEL_PREFIX`). */
  readonly model: string;
  /** The script's subcommand and its arguments. */
  readonly args: string[];
  /** The volume holding `registry-s3.sh`, and where it is mounted. */
  readonly script: { readonly volume: string; readonly mountPath: string };
  /** The emptyDir the script writes into, laid out as a claim registry. */
  readonly target: { readonly volume: string; readonly mountPath: string };
  readonly resources: k8s.Container['resources'];
  readonly security: Required<StepSecurity>;
}

/**
 * A server's pull and sync containers, a batch run's pull and a gate's baseline fetch are
 * the same container with another subcommand: the AWS CLI image, the access key by
 * reference, and HOME on the writable /tmp (the CLI caches under ~/.aws; the root file
 * system is read-only).
 */
export function objectStoreClientContainer(o: ObjectStoreClientOptions): k8s.Container {
  return {
    name: o.name,
    image: o.store.clientImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/bash', `${o.script.mountPath}/${OBJECT_STORE_SCRIPT}`, ...o.args],
    env: [...objectStoreEnv(o.store, o.model), { name: 'HOME', value: '/tmp' }],
    resources: o.resources,
    securityContext: containerSecurityContext(o.security),
    volumeMounts: [
      { name: o.script.volume, mountPath: o.script.mountPath, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      { name: o.target.volume, mountPath: o.target.mountPath },
    ],
  };
}
