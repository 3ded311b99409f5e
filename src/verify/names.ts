/**
 * Name and label syntax the API server enforces but no OpenAPI schema states. Rules follow
 * k8s.io/apimachinery/pkg/util/validation (1.27).
 */
import { DNS_LABEL, DNS_SUBDOMAIN, LABEL_NAME } from '../model/names';
import { containersOf, ObjectInfo, podTemplateOf } from './objects';
import { asArray, asRecord, asString, metadataOf, pointer, Problem, showValue } from './types';

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

type NameRule = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label' | 'path-segment';

interface RuleOf {
  readonly rule: NameRule;
  readonly max: number;
  readonly why?: string;
}

/** Which rule a kind's `metadata.name` follows. */
function nameRuleOf(kind: string, group: string): RuleOf {
  if (group === '' && kind === 'Service') return { rule: 'dns1035-label', max: 63, why: 'it becomes a DNS label' };
  if (group === '' && kind === 'Namespace') return { rule: 'dns1123-label', max: 63 };
  // The API accepts longer Job names, but the Job controller copies the name into the
  // `job-name` pod label, and label values stop at 63 characters.
  if (group === 'batch' && kind === 'Job') return { rule: 'dns1123-label', max: 63, why: 'it becomes the job-name pod label' };
  // A CronJob appends an 11-character suffix to make each Job's name.
  if (group === 'batch' && kind === 'CronJob') return { rule: 'dns1123-label', max: 52, why: 'its Jobs append an 11-character suffix' };
  if (group === 'rbac.authorization.k8s.io') return { rule: 'path-segment', max: Number.MAX_SAFE_INTEGER };
  return { rule: 'dns1123-subdomain', max: 253 };
}

function describeRule(r: RuleOf): string {
  switch (r.rule) {
    case 'dns1123-label':
      return `a DNS-1123 label: at most ${r.max} lowercase letters, digits or "-", starting and ending with a letter or digit`;
    case 'dns1035-label':
      return `a DNS-1035 label: at most ${r.max} lowercase letters, digits or "-", starting with a letter and ending with a letter or digit`;
    case 'dns1123-subdomain':
      return `a DNS-1123 subdomain: at most ${r.max} lowercase letters, digits, "-" or ".", each dot-separated part starting and ending with a letter or digit`;
    case 'path-segment':
      return 'a path segment: not "." or "..", and without "/" or "%"';
  }
}

function matchesRule(name: string, r: RuleOf): boolean {
  if (name.length === 0 || name.length > r.max) return false;
  switch (r.rule) {
    case 'dns1123-label':
      return DNS_LABEL.test(name);
    case 'dns1035-label':
      return DNS1035_LABEL.test(name);
    case 'dns1123-subdomain':
      return DNS_SUBDOMAIN.test(name);
    case 'path-segment':
      return name !== '.' && name !== '..' && !/[/%]/.test(name);
  }
}

/** A close valid spelling for a bad name, offered in the fix when one exists. */
function sanitize(name: string, r: RuleOf): string | undefined {
  let s = name.toLowerCase().replace(r.rule === 'dns1123-subdomain' ? /[^a-z0-9.-]+/g : /[^a-z0-9-]+/g, '-');
  s = s.replace(/-+/g, '-').replace(/^[^a-z0-9]+/, '');
  if (r.rule === 'dns1035-label') s = s.replace(/^[^a-z]+/, '');
  s = s.slice(0, Math.min(r.max, 253)).replace(/[^a-z0-9]+$/, '');
  return s && s !== name && matchesRule(s, r) ? s : undefined;
}

/** Checks `metadata.name`, `metadata.namespace`, label and annotation syntax of one object and its pod template. */
export function checkNames(info: ObjectInfo): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, rule: string, message: string, fix?: string) =>
    problems.push({ object: info.label, path, rule, severity: 'error', message: fix ? `${message}; ${fix}` : message, fix });
  const meta = metadataOf(info.obj);

  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    if (typeof meta.generateName === 'string') {
      add('/metadata/name', 'name/missing', `${info.label}: metadata.name is missing (only generateName is set)`, 'kubectl apply needs a fixed name; set metadata.name');
    } else {
      add('/metadata/name', 'name/missing', `${info.label}: metadata.name is missing`, 'set metadata.name');
    }
  } else {
    const r = nameRuleOf(info.kind, info.group);
    if (!matchesRule(name, r)) {
      const better = sanitize(name, r);
      const tooLong = name.length > r.max ? ` (${name.length} characters)` : '';
      add('/metadata/name', 'name/invalid',
        `${info.label}: invalid name ${showValue(name)}${tooLong} at /metadata/name; a ${info.kind} name must be ${describeRule(r)}${r.why ? ` (${r.why})` : ''}`,
        better ? `use ${showValue(better)}` : undefined);
    }
  }
  const ns = meta.namespace;
  if (typeof ns === 'string' && !(ns.length <= 63 && DNS_LABEL.test(ns))) {
    add('/metadata/namespace', 'name/namespace', `${info.label}: invalid namespace ${showValue(ns)} at /metadata/namespace; a namespace must be ${describeRule({ rule: 'dns1123-label', max: 63 })}`);
  }

  checkLabelMap(meta.labels, '/metadata/labels', info.label, problems);
  checkAnnotationMap(meta.annotations, '/metadata/annotations', info.label, problems);
  const spec = asRecord(info.obj.spec);
  if (spec) {
    const templates: [unknown, string][] = [[spec.template, '/spec/template']];
    const jobTemplate = asRecord(spec.jobTemplate);
    if (jobTemplate) {
      templates.push([jobTemplate, '/spec/jobTemplate']);
      templates.push([asRecord(jobTemplate.spec)?.template, '/spec/jobTemplate/spec/template']);
    }
    for (const [t, path] of templates) {
      const tmeta = asRecord(asRecord(t)?.metadata);
      if (!tmeta) continue;
      checkLabelMap(tmeta.labels, `${path}/metadata/labels`, info.label, problems);
      checkAnnotationMap(tmeta.annotations, `${path}/metadata/annotations`, info.label, problems);
    }
    const selector = asRecord(spec.selector);
    if (selector) {
      // A Service selector is a plain map; every other selector is a LabelSelector.
      const isService = info.group === '' && info.kind === 'Service';
      checkLabelMap(isService ? selector : selector.matchLabels, isService ? '/spec/selector' : '/spec/selector/matchLabels', info.label, problems);
    }
    checkPodNames(info, problems);
  }
  if (info.group === '' && (info.kind === 'ConfigMap' || info.kind === 'Secret')) checkConfigKeys(info, problems);
  return problems;
}

function checkLabelMap(value: unknown, path: string, object: string, problems: Problem[]): void {
  const map = asRecord(value);
  if (!map) return;
  for (const [key, v] of Object.entries(map)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) {
      problems.push(labelProblem(object, path + pointer(key), `invalid label key ${showValue(key)} at ${path}: ${keyProblem}`));
    }
    if (typeof v === 'string' && !(v === '' || (v.length <= 63 && LABEL_NAME.test(v)))) {
      problems.push(labelProblem(object, path + pointer(key),
        `invalid value ${showValue(v)} for label ${showValue(key)} at ${path}: a label value must be empty or at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`));
    }
  }
}

function labelProblem(object: string, path: string, what: string): Problem {
  return { object, path, rule: 'name/label', severity: 'error', message: `${object}: ${what}` };
}

function checkAnnotationMap(value: unknown, path: string, object: string, problems: Problem[]): void {
  const map = asRecord(value);
  if (!map) return;
  let size = 0;
  for (const [key, v] of Object.entries(map)) {
    size += key.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) {
      problems.push({ object, path: path + pointer(key), rule: 'name/annotation', severity: 'error', message: `${object}: invalid annotation key ${showValue(key)} at ${path}: ${keyProblem}` });
    }
  }
  if (size > 256 * 1024) {
    problems.push({ object, path, rule: 'name/annotation', severity: 'error', message: `${object}: annotations at ${path} total ${size} bytes, over the 262144-byte limit; move large values into a ConfigMap` });
  }
}

/** Why `key` is not a valid qualified name (`[prefix/]name`), or undefined when it is. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'a key has at most one "/"';
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && !(prefix.length > 0 && prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))) {
    return `its prefix ${showValue(prefix)} must be a DNS-1123 subdomain (lowercase, like example.com)`;
  }
  if (!(name.length > 0 && name.length <= 63 && LABEL_NAME.test(name))) {
    return 'the name part must be 1 to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  }
  return undefined;
}

/** Container names and port names: services and probes refer to them, so bad ones break references silently. */
function checkPodNames(info: ObjectInfo, problems: Problem[]): void {
  const pod = podTemplateOf(info);
  if (!pod) return;
  for (const c of containersOf(pod)) {
    const cname = asString(c.container.name);
    if (cname !== undefined && !(cname.length <= 63 && DNS_LABEL.test(cname))) {
      problems.push({ object: info.label, path: `${c.path}/name`, rule: 'name/container', severity: 'error',
        message: `${info.label}: invalid container name ${showValue(cname)} at ${c.path}/name; it must be ${describeRule({ rule: 'dns1123-label', max: 63 })}` });
    }
    asArray(c.container.ports).forEach((p, j) => {
      const pname = asString(asRecord(p)?.name);
      if (pname !== undefined && !isIanaServiceName(pname)) {
        problems.push({ object: info.label, path: `${c.path}/ports/${j}/name`, rule: 'name/port', severity: 'error',
          message: `${info.label}: invalid port name ${showValue(pname)} at ${c.path}/ports/${j}/name; a port name is at most 15 lowercase letters, digits or "-", with at least one letter and no "--"` });
      }
    });
  }
}

export function isIanaServiceName(name: string): boolean {
  return name.length <= 15 && IANA_SVC_NAME.test(name) && /[a-z]/.test(name) && !name.includes('--');
}

function checkConfigKeys(info: ObjectInfo, problems: Problem[]): void {
  let size = 0;
  for (const field of ['data', 'binaryData', 'stringData']) {
    const map = asRecord(info.obj[field]);
    if (!map) continue;
    for (const [key, v] of Object.entries(map)) {
      size += typeof v === 'string' ? Buffer.byteLength(v) : 0;
      if (!(key.length <= 253 && CONFIG_KEY.test(key))) {
        problems.push({ object: info.label, path: pointer(field, key), rule: 'name/key', severity: 'error',
          message: `${info.label}: invalid key ${showValue(key)} at /${field}; keys are at most 253 letters, digits, "-", "_" or "."` });
      }
    }
  }
  if (size > 1024 * 1024) {
    problems.push({ object: info.label, path: '', rule: 'name/size', severity: 'error',
      message: `${info.label}: its data totals ${size} bytes, over the 1 MiB limit of a ${info.kind}; move large content to a volume or an image` });
  }
}
