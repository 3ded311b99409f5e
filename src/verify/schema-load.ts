/**
 * Turns the Kubernetes 1.27.1 OpenAPI definitions, and the CRD schemas in CRD_SCHEMAS, into a
 * strict ajv validator (unknown fields are errors). The definitions are extracted at build time from kubernetes-models@4.3.1 (see
 * scripts/extract-schemas.js) into `assets/k8s-1.27-schemas.json.gz`, so the package does
 * not depend on kubernetes-models. Its own validator is not strict (it misses unknown fields
 * and names), which is why we compile our own.
 */
import { readFileSync } from 'fs';
import { gunzipSync } from 'zlib';
import { findAsset } from '../backends/plain/assets';
import { addFormats, Ajv, ValidateFunction } from './ajv';
import { QUANTITY } from './quantity';

type Schema = Record<string, unknown>;

/** Timings of the one-time work, in milliseconds, for benchmarks and `verify --timings`. */
export interface SchemaTimings {
  /** Reading and decompressing the definitions. */
  readonly collectMs: number;
  /** Making them strict and handing them to ajv. */
  readonly prepareMs: number;
  /** Compiling the validators of the kinds used so far (ajv compiles on first use). */
  readonly compileMs: number;
  readonly schemaCount: number;
  readonly compiledKinds: number;
}

/**
 * apiVersions served by Kubernetes 1.27 whose kinds we validate. The schemas also hold
 * versions the API server no longer serves (autoscaling/v2beta2, policy/v1beta1, ...); an
 * object using one of those would be rejected at apply, so they are not in this list.
 */
const SERVED_API_VERSIONS = new Set([
  'v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'policy/v1', 'autoscaling/v1',
  'autoscaling/v2', 'networking.k8s.io/v1', 'scheduling.k8s.io/v1', 'storage.k8s.io/v1',
  'node.k8s.io/v1', 'discovery.k8s.io/v1', 'coordination.k8s.io/v1', 'events.k8s.io/v1',
  'certificates.k8s.io/v1', 'admissionregistration.k8s.io/v1', 'apiextensions.k8s.io/v1',
  'apiregistration.k8s.io/v1',
]);

/**
 * Custom resources checked as strictly as the built-in kinds: schema id -> the asset holding
 * its CRD's openAPIV3Schema (the source in the file's `$comment`), with `apiVersion` and
 * `kind` enums like the built-in definitions. Strict as the API server treats a structural
 * schema under `kubectl apply`'s strict field validation (the default since kubectl 1.27): a
 * field the schema does not declare is an error, not pruned; the CRD's CEL rules
 * (x-kubernetes-validations) are not in the file and not evaluated. Only these kinds of their
 * API group are known: its other kinds (a Gateway) stay unchecked, reported as `unknownKinds` says.
 */
const CRD_SCHEMAS: Readonly<Record<string, string>> = {
  // TrafficSplit.httpRoute renders gateway.networking.k8s.io/v1 HTTPRoutes.
  'io.k8s.networking.gateway.v1.HTTPRoute': 'gateway-api-v1.0.0-httproute.schema.json',
};

/** apiVersions removed before 1.27, with what replaced them, so the message can say what to write. */
export const REMOVED_API_VERSIONS: Readonly<Record<string, string>> = {
  'extensions/v1beta1': 'apps/v1 (workloads) or networking.k8s.io/v1 (Ingress, NetworkPolicy)',
  'apps/v1beta1': 'apps/v1',
  'apps/v1beta2': 'apps/v1',
  'batch/v1beta1': 'batch/v1',
  'policy/v1beta1': 'policy/v1',
  'autoscaling/v2beta1': 'autoscaling/v2',
  'autoscaling/v2beta2': 'autoscaling/v2',
  'networking.k8s.io/v1beta1': 'networking.k8s.io/v1',
  'rbac.authorization.k8s.io/v1beta1': 'rbac.authorization.k8s.io/v1',
  'rbac.authorization.k8s.io/v1alpha1': 'rbac.authorization.k8s.io/v1',
  'scheduling.k8s.io/v1beta1': 'scheduling.k8s.io/v1',
  'storage.k8s.io/v1beta1': 'storage.k8s.io/v1',
};

/** @internal ajv's types stay out of the published declarations: the package bundles ajv. */
export interface StrictSchemas {
  readonly ajv: Ajv;
  /** `apiVersion kind` -> schema id, for served versions only. */
  readonly kinds: ReadonlyMap<string, string>;
  /** Every kind per served apiVersion, to suggest a spelling. */
  readonly kindsByVersion: ReadonlyMap<string, readonly string[]>;
  readonly timings: { collectMs: number; prepareMs: number; compileMs: number };
  readonly compiled: Map<string, ValidateFunction>;
}

let loaded: StrictSchemas | undefined;

/** @internal The strict validator, built on first call and kept for the life of the process. */
export function strictSchemas(): StrictSchemas {
  if (!loaded) loaded = build();
  return loaded;
}

export function schemaTimings(): SchemaTimings {
  const s = strictSchemas();
  return {
    ...s.timings,
    schemaCount: Object.keys(s.ajv.schemas).length,
    compiledKinds: s.compiled.size,
  };
}

/** @internal The compiled validator of one schema id, compiled on first use. */
export function validatorFor(id: string): ValidateFunction {
  const s = strictSchemas();
  let fn = s.compiled.get(id);
  if (!fn) {
    const t0 = performance.now();
    fn = s.ajv.getSchema(id);
    if (!fn) throw new Error(`internal error: schema ${id} was not registered`);
    s.timings.compileMs += performance.now() - t0;
    s.compiled.set(id, fn);
  }
  return fn;
}

function build(): StrictSchemas {
  const t0 = performance.now();
  const raw = collectRawSchemas();
  const t1 = performance.now();

  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateSchema: false, addUsedSchema: false });
  addFormats(ajv, ['date-time', 'byte', 'int32', 'int64', 'double', 'float']);
  ajv.addFormat('quantity', { type: 'string', validate: QUANTITY });
  // Not used by the 1.27.1 schemas (IntOrString is a oneOf there), registered so a schema
  // update that starts using it is not silently unchecked.
  ajv.addFormat('int-or-string', { type: 'string', validate: () => true });
  const known = new Set(['date-time', 'byte', 'int32', 'int64', 'double', 'float', 'quantity', 'int-or-string']);

  const kinds = new Map<string, string>();
  const kindsByVersion = new Map<string, string[]>();
  for (const [id, schema] of raw) {
    const strict = strictify(specialCase(id, schema), known, id);
    ajv.addSchema(strict, id);
    const props = schema.properties as Schema | undefined;
    const versions = enumOf(props?.apiVersion);
    const kindNames = enumOf(props?.kind);
    if (versions.length !== 1 || kindNames.length !== 1) continue;
    if (SERVED_API_VERSIONS.has(versions[0])) {
      kinds.set(`${versions[0]} ${kindNames[0]}`, id);
      const list = kindsByVersion.get(versions[0]) ?? [];
      list.push(kindNames[0]);
      kindsByVersion.set(versions[0], list);
    } else if (id in CRD_SCHEMAS) {
      // Not in kindsByVersion: another kind of the group is unchecked, not a misspelt HTTPRoute.
      kinds.set(`${versions[0]} ${kindNames[0]}`, id);
    }
  }
  const t2 = performance.now();
  return {
    ajv,
    kinds,
    kindsByVersion,
    timings: { collectMs: t1 - t0, prepareMs: t2 - t1, compileMs: 0 },
    compiled: new Map(),
  };
}

function enumOf(prop: unknown): string[] {
  const e = (prop as Schema | undefined)?.enum;
  return Array.isArray(e) ? e.filter((x): x is string => typeof x === 'string') : [];
}

/** The definitions by schema id, as extracted at build time, and the shipped CRD schemas. */
function collectRawSchemas(): Map<string, Schema> {
  const text = gunzipSync(readFileSync(findAsset('k8s-1.27-schemas.json.gz'))).toString('utf8');
  const schemas = new Map(Object.entries(JSON.parse(text) as Record<string, Schema>));
  for (const [id, file] of Object.entries(CRD_SCHEMAS)) {
    const schema = JSON.parse(readFileSync(findAsset(file), 'utf8')) as Schema;
    // Where it comes from, for readers of the file; not a schema keyword.
    delete schema.$comment;
    schemas.set(id, schema);
  }
  return schemas;
}

/**
 * The two scalar unions are `oneOf`s in the source. Under `oneOf` one bad value yields three
 * errors (number branch, string branch, oneOf); as a type union with a format it yields one
 * precise error. Formats only apply to their own type (`quantity` to strings, `int32` to
 * numbers), so the union keeps the same meaning.
 */
function specialCase(id: string, schema: Schema): Schema {
  if (id === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return { type: ['string', 'number'], format: 'quantity' };
  if (id === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') return { type: ['string', 'integer'], format: 'int32' };
  return schema;
}

/**
 * Returns a strict copy (the originals belong to kubernetes-models and must stay intact):
 * - `additionalProperties: false` on every schema with `properties` and no
 *   `additionalProperties` of its own; maps (labels, annotations, data, limits, nodeSelector)
 *   declare `additionalProperties` and no `properties`, so they stay open;
 * - `oneOf: [{$ref}, {type: null}]` (how the generator spells an optional object) becomes the
 *   `$ref` alone; nulls are removed from the data before validation instead, as the API
 *   server treats an explicit null as unset. This keeps one error per mistake.
 */
function strictify(schema: unknown, formats: ReadonlySet<string>, id: string): Schema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema as Schema;
  const src = schema as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(src)) {
    switch (key) {
      case 'properties': {
        const props: Schema = {};
        for (const [name, sub] of Object.entries(value as Schema)) props[name] = strictify(sub, formats, id);
        out.properties = props;
        break;
      }
      case 'items':
      case 'additionalProperties':
        out[key] = typeof value === 'object' && value !== null ? strictify(value, formats, id) : value;
        break;
      case 'oneOf':
      case 'anyOf':
      case 'allOf': {
        const branches = value as Schema[];
        const nonNull = branches.filter((b) => !(b && b.type === 'null' && Object.keys(b).length === 1));
        if (key === 'oneOf' && nonNull.length === 1 && branches.length === 2) {
          Object.assign(out, strictify(nonNull[0], formats, id));
        } else {
          out[key] = branches.map((b) => strictify(b, formats, id));
        }
        break;
      }
      case 'format':
        if (!formats.has(value as string)) {
          throw new Error(`schema ${id} uses format ${JSON.stringify(value)}, which verify does not know; add it in schema-load.ts`);
        }
        out.format = value;
        break;
      default:
        out[key] = value;
    }
  }
  if (out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
