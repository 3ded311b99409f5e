import { createHash } from 'crypto';

/** A DNS-1123 label: what Kubernetes requires of Job, Service and label-value names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The longest name a DNS-1123 label may have. */
export const MAX_NAME_LENGTH = 63;

/**
 * Why `name` is not a DNS-1123 label, or undefined when it is one.
 *
 * The reason is phrased to complete "… is not a valid name: <reason>".
 */
export function dnsLabelProblem(name: string): string | undefined {
  if (typeof name !== 'string') return `it is a ${typeof name}, not a string`;
  if (name.length === 0) return 'it is empty; use lowercase letters, digits and \'-\', starting and ending with a letter or digit';
  if (name.length > MAX_NAME_LENGTH) return `it has ${name.length} characters, at most ${MAX_NAME_LENGTH} are allowed`;
  if (!DNS_LABEL.test(name)) {
    return 'use only lowercase letters, digits and \'-\', starting and ending with a letter or digit';
  }
  return undefined;
}

/** A short, stable hash of any JSON-serializable value (keys sorted, so order never matters). */
export function shortHash(value: unknown, length = 8): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The name part of a label key, and a non-empty label value. */
export const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A DNS-1123 subdomain: names of most objects, and label key prefixes. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key: value` cannot be a Kubernetes label, or undefined when it can. */
export function labelProblem(key: string, value: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key '${key}' has an invalid prefix; use a DNS subdomain such as 'example.com/'`;
  }
  if (name.length > MAX_NAME_LENGTH || !LABEL_NAME.test(name)) {
    return `label key '${key}' is invalid; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  if (value.length > MAX_NAME_LENGTH || (value !== '' && !LABEL_NAME.test(value))) {
    return `label value '${value}' of '${key}' is invalid; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `name` cannot name a Secret, ServiceAccount or claim (a DNS-1123 subdomain), or undefined. */
export function dnsSubdomainProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0 || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return 'use at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit';
  }
  return undefined;
}

/**
 * An image reference as container runtimes parse it: `[host[:port]/]path[:tag][@digest]`,
 * with a lowercase path. A bad one leaves the pod in InvalidImageName, holding its node.
 */
const IMAGE_REFERENCE = new RegExp('^'
  + '(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?'
  + '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*'
  + '(?::[\\w][\\w.-]{0,127})?'
  + '(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$');

export function imageReferenceProblem(image: string): string | undefined {
  return typeof image === 'string' && IMAGE_REFERENCE.test(image)
    ? undefined
    : `image '${image}' is not a valid image reference; use [registry/]repository[:tag][@sha256:digest] with a lowercase repository`;
}

/**
 * Label prefixes Kubernetes reserves for its own components (`kubernetes.io/`, `k8s.io/` and
 * their subdomains; the Job controller writes `batch.kubernetes.io/job-name`), except
 * `app.kubernetes.io/`, which is meant for users' recommended labels.
 */
export function reservedLabelPrefix(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash);
  if (prefix === 'app.kubernetes.io') return undefined;
  const reserved = ['kubernetes.io', 'k8s.io'].some((r) => prefix === r || prefix.endsWith(`.${r}`));
  return reserved ? `${prefix}/` : undefined;
}
