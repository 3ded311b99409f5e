import { readFileSync } from 'fs';
import { join } from 'path';
import type { ValidateFunction } from '../../src/verify/ajv';
import { strictSchemas } from '../../src/verify/schema-load';

/**
 * The HTTPRoute CRD's openAPIV3Schema (gateway.networking.k8s.io/v1, Gateway API v1.0.0),
 * checked in under fixtures/ with its source in its `$comment`: a test-only copy, so
 * neither the package nor its dev dependencies carry the Gateway API models.
 *
 * Made strict as the API server treats a structural schema under `kubectl apply`'s strict
 * field validation (the default since kubectl 1.27): a field the schema does not declare
 * is an error, not silently pruned. `metadata` is checked against Kubernetes 1.27's
 * ObjectMeta, from the same validator as every other object.
 */
export function httpRouteValidator(): ValidateFunction {
  const raw = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'gateway-api-v1.0.0-httproute.schema.json'), 'utf8'));
  delete raw.$comment;
  const schema = strict(raw);
  schema.properties.metadata = { $ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };
  return strictSchemas().ajv.compile(schema);
}

/** A copy with `additionalProperties: false` wherever `properties` are declared and extra fields are not. */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: any = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, strict(v)]));
    else out[key] = key === 'enum' || key === 'required' ? value : strict(value);
  }
  if (out.properties !== undefined && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}
