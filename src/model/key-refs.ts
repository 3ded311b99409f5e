import type { EnvVarValue } from './plus-values';

/** A variable read from a key of a Secret or ConfigMap. */
export interface KeyRef {
  readonly kind: 'secret' | 'config map';
  readonly name: string;
  readonly key: string;
}

/**
 * The Secret or ConfigMap key an env value reads, or undefined for a plain value.
 *
 * Read from the value's rendered `valueFrom`, not by `instanceof` on cdk8s-plus classes: a
 * user's app may build its values with another cdk8s-plus major (cdk8s-plus-33).
 */
export function keyRefOf(value: EnvVarValue): KeyRef | undefined {
  const from = value.valueFrom as { secretKeyRef?: { name?: unknown; key?: unknown }; configMapKeyRef?: { name?: unknown; key?: unknown } } | undefined;
  const secret = from?.secretKeyRef;
  if (secret) return { kind: 'secret', name: String(secret.name ?? ''), key: String(secret.key ?? '') };
  const configMap = from?.configMapKeyRef;
  if (configMap) return { kind: 'config map', name: String(configMap.name ?? ''), key: String(configMap.key ?? '') };
  return undefined;
}

/** A key of a Secret's or ConfigMap's data: what Kubernetes accepts (IsConfigMapKey). */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

/** Why `key` cannot be a Secret or ConfigMap key, or undefined when it can. */
export function dataKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > 253 || !DATA_KEY.test(key) || key === '.' || key === '..') {
    return 'use 1 to 253 letters, digits, \'-\', \'_\' or \'.\' (not \'.\' or \'..\'), as the key appears in the data';
  }
  return undefined;
}
