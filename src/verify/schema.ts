/**
 * Strict per-object validation: the Kubernetes 1.27.1 OpenAPI schema with unknown fields
 * rejected (see schema-load.ts), plus the name and label syntax rules no schema states.
 */
import type { ErrorObject } from './ajv';
import { checkNames } from './names';
import { describeObject, ObjectInfo } from './objects';
import { REMOVED_API_VERSIONS, strictSchemas, validatorFor } from './schema-load';
import { closest } from './suggest';
import { isRecord, KubeObject, pointerSegment, Problem, Severity, showValue } from './types';

export { schemaTimings } from './schema-load';
export type { SchemaTimings } from './schema-load';

export interface SchemaOptions {
  /**
   * What to report for a kind with no schema (a custom resource other than the Gateway API's
   * HTTPRoute, or a typo).
   * Default `'error'`: an object nothing checked must not pass silently. Use `'warning'` for
   * manifests that mix in CRD objects.
   */
  readonly unknownKinds?: Severity | 'ignore';
  /**
   * Namespace assumed for objects without `metadata.namespace`. Default `'default'`, what
   * `kubectl apply` without `-n` uses. Only affects how objects are labelled in problems.
   */
  readonly namespace?: string;
}

/**
 * The schema id for an apiVersion and kind (`batch/v1`, `Job` -> `io.k8s.api.batch.v1.Job`),
 * or undefined when Kubernetes 1.27 does not serve that kind. Read from the `apiVersion` and
 * `kind` enums of the schemas themselves, so no table can drift from them.
 */
export function schemaIdFor(apiVersion: string, kind: string): string | undefined {
  return strictSchemas().kinds.get(`${apiVersion} ${kind}`);
}

/** Validates one object against its schema and the name rules. */
export function validateSchema(obj: unknown, options: SchemaOptions = {}): Problem[] {
  if (!isRecord(obj)) return [notAnObject(obj)];
  return validateObjectSchema(describeObject(obj, 0, options.namespace ?? 'default'), options);
}

/** The problem for a document that is not a mapping at all (a bare string, a list, ...). */
export function notAnObject(value: unknown): Problem {
  return { object: '<not an object>', path: '', rule: 'schema/not-object', severity: 'error', message: `<not an object>: a manifest must be a mapping with apiVersion and kind, got ${actualType(value)}` };
}

export function validateObjectSchema(info: ObjectInfo, options: SchemaOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const id = schemaIdOf(info, options, problems);
  if (id) problems.push(...schemaProblems(info, id));
  problems.push(...checkNames(info));
  return problems;
}

/** Resolves `apiVersion` + `kind` to a schema id, reporting why when it cannot. */
function schemaIdOf(info: ObjectInfo, options: SchemaOptions, problems: Problem[]): string | undefined {
  const add = (path: string, rule: string, severity: Severity, message: string, fix?: string) =>
    problems.push({ object: info.label, path, rule, severity, message: fix ? `${message}; ${fix}` : message, fix });
  if (typeof info.obj.apiVersion !== 'string' || info.apiVersion === '') {
    add('/apiVersion', 'schema/required', 'error', `${info.label}: missing required field "apiVersion" at /`, 'add apiVersion, e.g. "batch/v1" for a Job');
    return undefined;
  }
  if (typeof info.obj.kind !== 'string' || info.kind === '') {
    add('/kind', 'schema/required', 'error', `${info.label}: missing required field "kind" at /`, 'add kind, e.g. "Job"');
    return undefined;
  }
  const s = strictSchemas();
  const id = s.kinds.get(`${info.apiVersion} ${info.kind}`);
  if (id) return id;
  const removed = REMOVED_API_VERSIONS[info.apiVersion];
  if (removed) {
    add('/apiVersion', 'schema/removed-api', 'error', `${info.label}: apiVersion ${showValue(info.apiVersion)} is not served by Kubernetes 1.27`, `use ${removed}`);
    return undefined;
  }
  const known = s.kindsByVersion.get(info.apiVersion);
  if (known) {
    const guess = closest(info.kind, known);
    add('/kind', 'schema/unknown-kind', 'error', `${info.label}: unknown kind ${showValue(info.kind)} for apiVersion ${showValue(info.apiVersion)}`,
      guess ? `did you mean "${guess}"?` : `known kinds: ${[...known].sort().join(', ')}`);
    return undefined;
  }
  const severity = options.unknownKinds ?? 'error';
  if (severity !== 'ignore') {
    add('/kind', 'schema/unknown-kind', severity,
      `${info.label}: no Kubernetes 1.27 schema for ${info.apiVersion} ${info.kind}, so it was not checked`,
      'verify knows the built-in kinds (core, apps, batch, rbac, policy, autoscaling, networking, ...) and gateway.networking.k8s.io/v1 HTTPRoute; '
        + 'pass unknownKinds: "warning" to accept custom resources unchecked');
  }
  return undefined;
}

function schemaProblems(info: ObjectInfo, id: string): Problem[] {
  const validate = validatorFor(id);
  if (validate(withoutNulls(info.obj))) return [];
  const errors = (validate.errors ?? []).slice();
  // One mistake, one problem: when a value has the wrong type, its enum/format errors add nothing.
  const typeErrorAt = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const e of errors) {
    if (e.keyword !== 'type' && typeErrorAt.has(e.instancePath) && !['required', 'additionalProperties'].includes(e.keyword)) continue;
    const p = toProblem(info, e);
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The API server decodes an explicit `null` as "unset"; validating it as a value would be a false error. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) out[k] = withoutNulls(v);
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'a boolean (true or false)',
  object: 'an object (a map of fields)', array: 'a list', null: 'null',
};

function typeName(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_NAMES[String(x)] ?? String(x)).join(' or ');
}

function actualType(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return `the string ${showValue(v)}`;
  return `${typeof v} ${showValue(v)}`;
}

function toProblem(info: ObjectInfo, e: ErrorObject): Problem {
  const at = e.instancePath || '/';
  const make = (path: string, rule: string, what: string, fix?: string): Problem => ({
    object: info.label,
    path,
    rule,
    severity: 'error',
    message: `${info.label}: ${what}${fix ? `; ${fix}` : ''}`,
    fix,
  });
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const props = isRecord(e.parentSchema) && isRecord(e.parentSchema.properties) ? Object.keys(e.parentSchema.properties) : [];
      const guess = closest(field, props);
      return make(`${e.instancePath}/${pointerSegment(field)}`, 'schema/unknown-field',
        `unknown field ${showValue(field)} at ${at}`,
        guess ? `did you mean "${guess}"?`
          : props.length <= 12 ? `remove it (fields allowed here: ${props.sort().join(', ')})` : 'remove it, or check its spelling and indentation');
    }
    case 'required': {
      const field = String(params.missingProperty);
      return make(`${e.instancePath}/${pointerSegment(field)}`, 'schema/required', `missing required field ${showValue(field)} at ${at}`, `add ${field}`);
    }
    case 'type': {
      const want = typeName(params.type);
      const got = e.data;
      let fix: string | undefined;
      if (typeof got === 'string' && /^-?\d+(\.\d+)?$/.test(got) && /integer|number/.test(String(params.type))) fix = 'write the number without quotes';
      else if (typeof got === 'number' && String(params.type) === 'string') fix = `quote it: "${got}"`;
      else if (typeof got === 'string' && /^(true|false)$/i.test(got) && String(params.type) === 'boolean') fix = 'write true or false without quotes';
      return make(e.instancePath, 'schema/type', `${at} must be ${want}, got ${actualType(got)}`, fix);
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v));
      const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
      return make(e.instancePath, 'schema/enum', `invalid value ${showValue(e.data)} at ${at}`,
        guess ? `did you mean "${guess}"? (allowed: ${allowed.join(', ')})` : `use one of: ${allowed.join(', ')}`);
    }
    case 'format': {
      const format = String(params.format);
      if (format === 'quantity') {
        return make(e.instancePath, 'schema/quantity', `invalid quantity ${showValue(e.data)} at ${at}`,
          'write a number with an optional suffix: m (milli), k/M/G/T, Ki/Mi/Gi/Ti, e.g. 500m, 2, 1.5, 512Mi');
      }
      if (format === 'int32' || format === 'int64') {
        return make(e.instancePath, 'schema/format', `${showValue(e.data)} at ${at} is out of range for ${format}`);
      }
      if (format === 'date-time') {
        return make(e.instancePath, 'schema/format', `invalid date-time ${showValue(e.data)} at ${at}`, 'use RFC 3339, e.g. 2024-01-31T12:00:00Z');
      }
      if (format === 'byte') {
        return make(e.instancePath, 'schema/format', `invalid base64 value at ${at}`, 'binaryData and Secret data values must be base64; use stringData for plain text');
      }
      return make(e.instancePath, 'schema/format', `${showValue(e.data)} at ${at} must match format "${format}"`);
    }
    case 'minimum':
    case 'maximum': {
      // The CRD schemas bound numbers (an HTTPRoute's weight: 0 to 1000000); say the whole range when both ends are known.
      const bounds = isRecord(e.parentSchema) ? e.parentSchema : {};
      const range = typeof bounds.minimum === 'number' && typeof bounds.maximum === 'number'
        ? `from ${bounds.minimum} to ${bounds.maximum}` : `${e.keyword === 'maximum' ? 'at most' : 'at least'} ${String(params.limit)}`;
      return make(e.instancePath, 'schema/range', `${showValue(e.data)} at ${at} is out of range`, `use a number ${range}`);
    }
    default:
      return make(e.instancePath, `schema/${e.keyword}`, `${at} ${e.message ?? 'is invalid'} (got ${showValue(e.data)})`);
  }
}

/** Validates many objects (schema + names), labelling them with the given default namespace. */
export function validateSchemas(objects: readonly unknown[], options: SchemaOptions = {}): Problem[] {
  return objects.flatMap((obj, i) =>
    isRecord(obj) ? validateObjectSchema(describeObject(obj as KubeObject, i, options.namespace ?? 'default'), options) : [notAnObject(obj)]);
}
