/**
 * Shared vocabulary of the verify layer. Everything here works on plain parsed Kubernetes
 * objects (what `yaml.parse` or `Testing.synth` returns), never on constructs, so the same
 * checks run on a folder of YAML written by anything.
 */

/** A parsed Kubernetes object. Only the fields every object has are typed; the rest is read defensively. */
export interface KubeObject {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly metadata?: unknown;
  readonly [field: string]: unknown;
}

/** How bad a problem is: `error` fails `verify` (and `cdk8s synth` through the plugin), `warning` is printed only. */
export type Severity = 'error' | 'warning';

/** One finding about one object. */
export interface Problem {
  /** The object, as `Kind/namespace/name` (`Kind/name` for cluster-scoped kinds). */
  readonly object: string;
  /** JSON pointer (RFC 6901) into that object; `''` means the object as a whole. */
  readonly path: string;
  /** Lowercase sentence naming the object, the path, the bad value and, where there is one, the fix. */
  readonly message: string;
  readonly severity: Severity;
  /**
   * Stable identifier of the check that fired (`schema/unknown-field`, `reference/secret`,
   * `pipeline/cycle`, ...), so callers can filter or count without parsing messages.
   */
  readonly rule: string;
  /** The fix alone (also contained in `message`), for reports that show it in its own column. */
  readonly fix?: string;
  /** Where the object was read from (`dist/app.k8s.yaml#3`), when the caller said. */
  readonly source?: string;
}

/**
 * Resources the manifests deliberately use without creating them (they already exist in the
 * cluster). Each entry is `name` (any namespace) or `namespace/name`.
 */
export interface ExternalRefs {
  readonly secrets?: readonly string[];
  readonly configMaps?: readonly string[];
  readonly persistentVolumeClaims?: readonly string[];
  readonly serviceAccounts?: readonly string[];
  readonly roles?: readonly string[];
  readonly clusterRoles?: readonly string[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `metadata` of an object, or an empty record when it is missing or malformed (schema checks report that). */
export function metadataOf(obj: KubeObject): Record<string, unknown> {
  return asRecord(obj.metadata) ?? {};
}

/** A string-to-string map field (labels, annotations, selectors); non-string values are dropped. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const rec = asRecord(value);
  if (!rec) return out;
  for (const [k, v] of Object.entries(rec)) {
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** Escapes one JSON pointer segment (RFC 6901): `~` -> `~0`, `/` -> `~1`. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => '/' + pointerSegment(s)).join('');
}

/** Short, quoted rendering of a bad value for messages; long values are cut so one line stays one line. */
export function showValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'string') text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** Deterministic string comparison (no locale), used everywhere output order matters. */
export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
