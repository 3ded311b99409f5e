import { parse as parseYaml } from 'yaml';
import { ApiError, Cluster } from './cluster';
import { authorize, Identity, userName } from './rbac';
import { CallRecord } from './types';

export interface KubectlContext {
  readonly cluster: Cluster;
  readonly identity: Identity;
  /** False when the pod mounts no ServiceAccount token: kubectl then finds no server. */
  readonly hasToken: boolean;
  /** Decide whether this API request fails (an injected fault). */
  readonly inject: (verb: string) => boolean;
}

export interface KubectlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly request?: CallRecord['request'];
  readonly denied?: boolean;
  readonly injected?: boolean;
}

/** Flags that take a value, by long name, with their shorthand. */
const VALUE_FLAGS: Record<string, string | undefined> = {
  namespace: 'n',
  selector: 'l',
  output: 'o',
  patch: 'p',
  type: undefined,
  'field-selector': undefined,
  'patch-file': undefined,
  'request-timeout': undefined,
  kubeconfig: undefined,
  context: undefined,
  filename: 'f',
  'dry-run': undefined,
  'chunk-size': undefined,
};
const BOOL_FLAGS: Record<string, string | undefined> = { 'all-namespaces': 'A', watch: 'w', local: undefined, 'ignore-not-found': undefined };

const RESOURCES: Record<string, { group: string; resource: string; kind: string }> = {};
for (const [names, group, resource, kind] of [
  [['jobs', 'job', 'jobs.batch', 'job.batch', 'jobs.v1.batch'], 'batch', 'jobs', 'job.batch'],
  [['pods', 'pod', 'po'], '', 'pods', 'pod'],
  [['configmaps', 'configmap', 'cm'], '', 'configmaps', 'configmap'],
  [['cronjobs', 'cronjob', 'cj'], 'batch', 'cronjobs', 'cronjob.batch'],
  [['events', 'event', 'ev'], '', 'events', 'event'],
  [['secrets', 'secret'], '', 'secrets', 'secret'],
] as const) {
  for (const n of names) RESOURCES[n] = { group, resource, kind };
}

const NO_SERVER = 'The connection to the server localhost:8080 was refused - did you specify the right host or port?\n';

/**
 * `kubectl` for the subset the coordinator uses, answering like the real client against
 * the simulated API server: `get jobs [-n NS] [-l SEL] -o json` (a List, as kubectl prints
 * it), `get job NAME -o json`, `patch job NAME [-n NS] --type=merge -p JSON`. Every API
 * request passes RBAC first. Anything else fails with a kubectl-like error.
 */
export function kubectl(ctx: KubectlContext, argv: readonly string[]): KubectlResult {
  const parsed = parseArgs(argv);
  if ('error' in parsed) return fail(parsed.error);
  const { command, args, flags } = parsed;
  const ns = flag(flags, 'namespace') ?? ctx.identity.namespace;
  switch (command) {
    case 'get':
      return get(ctx, args, flags, ns);
    case 'patch':
      return patch(ctx, args, flags, ns);
    case undefined:
      return fail('error: no command given to kubectl\n');
    default:
      if (['delete', 'create', 'apply', 'replace', 'label', 'annotate', 'edit', 'scale', 'wait', 'describe', 'logs', 'exec', 'auth', 'rollout', 'version', 'api-resources', 'cp', 'run', 'set'].includes(command)) {
        return fail(`error: the cdk8s-mlops simulator does not model "kubectl ${command}"; the coordinator contract allows only get and patch\n`);
      }
      return fail(`error: unknown command "${command}" for "kubectl"\n`);
  }
}

function get(ctx: KubectlContext, args: string[], flags: Flags, ns: string): KubectlResult {
  if (args.length === 0) return fail('error: You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n');
  const output = flag(flags, 'output');
  if (flags.has('field-selector') || flags.has('watch')) return fail('error: the cdk8s-mlops simulator models kubectl get without --field-selector or --watch\n');
  const targets = targetsOf(args);
  if ('error' in targets) return fail(targets.error);
  const { type, names } = targets;
  const allNs = flags.has('all-namespaces');
  if (names.length === 0) {
    const request = { verb: 'list', resource: type.resource };
    const denied = authz(ctx, 'list', type, allNs ? '' : ns, '', request);
    if (denied) return denied;
    if (ctx.inject('list')) return injected(request, `list ${type.kind}`);
    if (type.resource !== 'jobs') return unmodelled(request, `listing ${type.resource}`);
    if (output !== 'json') return unmodelled(request, `kubectl get output ${output ? `"${output}"` : '(table)'}; use -o json`);
    const selector = parseSelector(flag(flags, 'selector') ?? '');
    if ('error' in selector) return { ...fail(selector.error), request };
    const items = ctx.cluster.list(allNs ? undefined : ns, selector.match);
    // Like kubectl: one request per page of --chunk-size items (500 by default, 0 = no paging).
    const chunk = Number(flag(flags, 'chunk-size') ?? 500);
    const pages = chunk > 0 ? Math.max(1, Math.ceil(items.length / chunk)) : 1;
    return { exitCode: 0, stdout: json({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }), stderr: '', request: { ...request, pages } };
  }
  const found: unknown[] = [];
  let stderr = '';
  for (const name of names) {
    const request = { verb: 'get', resource: type.resource, name };
    const denied = authz(ctx, 'get', type, ns, name, request);
    if (denied) return denied;
    if (ctx.inject('get')) return injected(request, `get ${type.kind} ${name}`);
    if (type.resource !== 'jobs') return unmodelled(request, `getting ${type.resource}`);
    if (output !== 'json') return unmodelled(request, `kubectl get output ${output ? `"${output}"` : '(table)'}; use -o json`);
    const job = ctx.cluster.job(ns, name);
    if (job) found.push(JSON.parse(JSON.stringify(job.obj)));
    else if (!flags.has('ignore-not-found')) stderr += `Error from server (NotFound): jobs.batch "${name}" not found\n`;
  }
  const body = found.length === 1 && names.length === 1 ? found[0] : { apiVersion: 'v1', items: found, kind: 'List', metadata: { resourceVersion: '' } };
  const request = { verb: 'get', resource: type.resource, name: names.join(',') };
  return { exitCode: stderr ? 1 : 0, stdout: found.length > 0 || !stderr ? json(body) : '', stderr, request };
}

function patch(ctx: KubectlContext, args: string[], flags: Flags, ns: string): KubectlResult {
  const targets = targetsOf(args);
  if ('error' in targets) return fail(targets.error);
  const { type, names } = targets;
  if (names.length !== 1) return fail(`error: kubectl patch needs exactly one ${type.kind} name, got ${names.length}\n`);
  const name = names[0];
  if (flags.has('patch-file') || flags.has('local') || flags.has('dry-run')) {
    return fail('error: the cdk8s-mlops simulator models kubectl patch with -p only (no --patch-file, --local or --dry-run)\n');
  }
  const text = flag(flags, 'patch');
  if (text === undefined) return fail('error: must specify -p to patch\nSee \'kubectl patch -h\' for help and examples\n');
  const kind = flag(flags, 'type') ?? 'strategic';
  if (!['merge', 'strategic', 'json'].includes(kind)) return fail(`error: --type must be one of [json merge strategic], not "${kind}"\n`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    try {
      body = parseYaml(text);
    } catch (e) {
      return fail(`error: unable to parse "${text}": ${(e as Error).message.split('\n')[0]}\n`);
    }
  }
  const request = { verb: 'patch', resource: type.resource, name, body };
  const denied = authz(ctx, 'patch', type, ns, name, request);
  if (denied) return denied;
  if (ctx.inject('patch')) return injected(request, `patch ${type.kind} ${name}`);
  if (type.resource !== 'jobs') return unmodelled(request, `patching ${type.resource}`);
  // Strategic merge of the maps the coordinator touches equals a merge patch; JSON patch differs.
  if (kind === 'json') return unmodelled(request, 'kubectl patch --type=json');
  try {
    const { changed } = ctx.cluster.patch(ns, name, body);
    return { exitCode: 0, stdout: `job.batch/${name} patched${changed ? '' : ' (no change)'}\n`, stderr: '', request };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const prefix = e.status === 'Invalid' ? '' : `Error from server (${e.status}): `;
    return { exitCode: 1, stdout: '', stderr: `${prefix}${e.message}\n`, request };
  }
}

type Flags = Map<string, string | true>;
type Type = (typeof RESOURCES)[string];

function authz(ctx: KubectlContext, verb: string, type: Type, ns: string, name: string, request: KubectlResult['request']): KubectlResult | undefined {
  if (!ctx.hasToken) return { exitCode: 1, stdout: '', stderr: NO_SERVER, request, denied: true };
  if (authorize(ctx.cluster.objects(), ctx.identity, { verb, group: type.group, resource: type.resource, namespace: ns, name })) return undefined;
  const what = name ? `${type.resource}${type.group ? `.${type.group}` : ''} "${name}"` : `${type.resource}${type.group ? `.${type.group}` : ''}`;
  const where = ns ? `in the namespace "${ns}"` : 'at the cluster scope';
  const stderr = `Error from server (Forbidden): ${what} is forbidden: User "${userName(ctx.identity)}" cannot ${verb} resource "${type.resource}" in API group "${type.group}" ${where}\n`;
  return { exitCode: 1, stdout: '', stderr, request, denied: true };
}

function injected(request: KubectlResult['request'], what: string): KubectlResult {
  return {
    exitCode: 1,
    stdout: '',
    stderr: `Error from server (InternalError): an error on the server ("injected by the simulator") has prevented the request from succeeding (${what})\n`,
    request,
    injected: true,
  };
}

function unmodelled(request: KubectlResult['request'], what: string): KubectlResult {
  return { exitCode: 1, stdout: '', stderr: `error: the cdk8s-mlops simulator does not model ${what}\n`, request };
}

function fail(stderr: string): KubectlResult {
  return { exitCode: 1, stdout: '', stderr };
}

function json(v: unknown): string {
  return `${JSON.stringify(v, null, 4)}\n`;
}

function flag(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function targetsOf(args: string[]): { type: Type; names: string[] } | { error: string } {
  const [first, ...rest] = args;
  const [typeName, slashName] = first.split('/', 2);
  const type = RESOURCES[typeName];
  if (!type) return { error: `error: the server doesn't have a resource type "${typeName}"\n` };
  const names = slashName !== undefined ? [slashName, ...rest.map((r) => r.split('/').pop()!)] : rest;
  return { type, names };
}

/** pflag-style parsing: --name=value, --name value, -n value, -nvalue, -n=value. */
function parseArgs(argv: readonly string[]): { command?: string; args: string[]; flags: Flags } | { error: string } {
  const flags: Flags = new Map();
  const positional: string[] = [];
  const shortToLong = (c: string, table: Record<string, string | undefined>) => Object.keys(table).find((k) => table[k] === c);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, inline] = splitOnce(a.slice(2), '=');
      if (name in VALUE_FLAGS) {
        const v = inline ?? argv[++i];
        if (v === undefined) return { error: `error: flag needs an argument: --${name}\n` };
        flags.set(name, v);
      } else if (name in BOOL_FLAGS) flags.set(name, true);
      else return { error: `error: unknown flag: --${name}\nSee 'kubectl --help' for usage.\n` };
    } else if (a.startsWith('-') && a.length > 1) {
      const c = a[1];
      const long = shortToLong(c, VALUE_FLAGS);
      if (long) {
        let v: string | undefined = a.length > 2 ? a.slice(2) : argv[++i];
        if (v?.startsWith('=') && a.length > 2) v = v.slice(1);
        if (v === undefined) return { error: `error: flag needs an argument: '${c}' in -${c}\n` };
        flags.set(long, v);
      } else if (shortToLong(c, BOOL_FLAGS) && a.length === 2) flags.set(shortToLong(c, BOOL_FLAGS)!, true);
      else return { error: `error: unknown shorthand flag: '${c}' in ${a}\nSee 'kubectl --help' for usage.\n` };
    } else positional.push(a);
  }
  const [command, ...args] = positional;
  return { command, args, flags };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Equality-based label selectors: a=b, a==b, a!=b, a, !a, comma-separated. */
export function parseSelector(text: string): { match: (labels: Record<string, string>) => boolean } | { error: string } {
  const tests: Array<(l: Record<string, string>) => boolean> = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    let m: RegExpMatchArray | null;
    if ((m = raw.match(/^([\w./-]+)\s*!=\s*([\w.-]*)$/))) {
      const [, k, v] = m;
      tests.push((l) => l[k] !== v);
    } else if ((m = raw.match(/^([\w./-]+)\s*==?\s*([\w.-]*)$/))) {
      const [, k, v] = m;
      tests.push((l) => l[k] === v);
    } else if ((m = raw.match(/^!([\w./-]+)$/))) {
      const k = m[1];
      tests.push((l) => !(k in l));
    } else if ((m = raw.match(/^([\w./-]+)$/))) {
      const k = m[1];
      tests.push((l) => k in l);
    } else {
      return { error: `error: the cdk8s-mlops simulator cannot parse the label selector "${text}" (only =, ==, != and existence)\n` };
    }
  }
  return { match: (labels) => tests.every((t) => t(labels)) };
}
