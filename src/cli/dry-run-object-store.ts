import { basename } from 'path';
import { bucketNameProblem, OBJECT_STORE_SCRIPT } from '../model/object-store';
import { dnsSubdomainProblem } from '../model/names';
import type { ManifestObject } from '../verify/simulator';

/** The access key id of the stand-in Secrets: the only one the dry run's object store accepts. */
export const DRY_RUN_ACCESS_KEY_ID = 'AKIADRYRUNSTANDIN000';

/** The variables of the object-store script a dry run lets through, besides MLOPS_* and HOME: what the library sets, no other AWS_*. */
export const OBJECT_STORE_ENV = ['AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EC2_METADATA_DISABLED'];

/**
 * What a dry run needs for the pipeline's containers that run the library's object-store
 * script (a model registry on S3): the buckets they name, for an empty object store model,
 * and a stand-in for each Secret their access key comes from (the YAML names it; its values
 * are never in the YAML), holding `DRY_RUN_ACCESS_KEY_ID`. Undefined when none runs it.
 * The YAML is untrusted: only valid bucket, Secret and key names are taken.
 */
export function objectStoreStandIns(own: readonly ManifestObject[], namespace: string): { buckets: string[]; secrets: ManifestObject[] } | undefined {
  const buckets = new Set<string>();
  const secrets = new Map<string, Record<string, string>>();
  for (const o of own) {
    const pod = o?.spec?.template?.spec ?? o?.spec?.jobTemplate?.spec?.template?.spec;
    for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      const argv: unknown[] = [...(c?.command ?? []), ...(c?.args ?? [])];
      if (typeof argv[1] !== 'string' || basename(argv[1]) !== OBJECT_STORE_SCRIPT) continue;
      for (const e of Array.isArray(c.env) ? c.env : []) {
        if (e?.name === 'MLOPS_S3_BUCKET' && typeof e.value === 'string' && bucketNameProblem(e.value) === undefined) buckets.add(e.value);
        const ref = e?.valueFrom?.secretKeyRef;
        const value = e?.name === 'AWS_ACCESS_KEY_ID' ? DRY_RUN_ACCESS_KEY_ID : e?.name === 'AWS_SECRET_ACCESS_KEY' ? 'dry-run' : undefined;
        if (value === undefined || typeof ref?.name !== 'string' || typeof ref.key !== 'string' || dnsSubdomainProblem(ref.name) || !/^[-._a-zA-Z0-9]+$/.test(ref.key)) continue;
        secrets.set(ref.name, { ...secrets.get(ref.name), [ref.key]: value });
      }
    }
  }
  if (buckets.size === 0) return undefined;
  const declared = new Set(own.filter((o) => o?.kind === 'Secret').map((o) => o.metadata?.name));
  return {
    buckets: [...buckets].sort(),
    secrets: [...secrets].filter(([name]) => !declared.has(name)).sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, stringData]) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData })),
  };
}
