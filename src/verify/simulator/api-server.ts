import * as https from 'https';
import type { IncomingMessage, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { parse as parseYaml } from 'yaml';
import { Cluster } from './cluster';
import {
  aggregated, AGGREGATED_V2BETA1, legacyGroup, legacyGroups, legacyResources, legacyVersions, resourceInfo, ResourceInfo,
  SERVER_VERSION, wantsAggregated,
} from './discovery';
import { isObject } from './merge-patch';
import { Attributes, authorize, forbiddenMessage, User } from './rbac';
import { escalationProblem } from './rbac-escalation';
import { parseSelector } from './selector';
import { ApiError, badRequest, forbidden, internalError, notFound, unauthorized } from './status';
import { selfSignedCertificate } from './x509';

/** One HTTP request the API server answered, for the simulation's record and its checks. */
export interface ApiRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** The API verb (requestinfo.go): get, list, patch, create, delete, ...; `discovery` for /api, /apis and /version. */
  readonly verb: string;
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** The decoded body of a patch or create. */
  readonly body?: unknown;
  readonly code: number;
  /** The Status reason of an error answer. */
  readonly reason?: string;
  /** The Status message of an error answer. */
  readonly message?: string;
  /** The answer was an error injected by the simulation, not the model's own. */
  readonly injected?: boolean;
}

export interface ApiServerOptions {
  readonly cluster: Cluster;
  /** The user of a bearer token, or undefined for an unknown (or revoked) token. */
  readonly authenticate: (token: string) => User | undefined;
  /** Whether to fail this request with an injected 500 (after authorization, as a failing etcd would). */
  readonly inject?: (verb: string, req: ApiRequest) => boolean;
  /** Called with every answered request and the token it came with. */
  readonly onRequest?: (token: string, req: ApiRequest) => void;
}

const JSON_TYPE = 'application/json';

/**
 * The API server of the simulation, on https://127.0.0.1:<port>, serving what kubectl asks
 * for: discovery, Jobs (list with label selectors and paging, get, merge patch, create,
 * delete) and read access to the other stored objects. Each request is authenticated by its
 * bearer token and authorized by the RBAC objects the cluster holds, as the real filter chain
 * does (staging/src/k8s.io/apiserver/pkg/server/config.go, DefaultBuildHandlerChain:
 * authentication, then authorization, then the handler).
 */
export class ApiServer {
  readonly ca: string;
  private readonly server: https.Server;
  private portNumber = 0;

  constructor(private readonly opts: ApiServerOptions) {
    const { cert, key } = selfSignedCertificate();
    this.ca = cert;
    this.server = https.createServer({ cert, key }, (req, res) => this.handle(req, res));
    // kubectl opens a connection per process: keep-alive would only hold sockets open.
    this.server.keepAliveTimeout = 0;
  }

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `https://127.0.0.1:${this.portNumber}`;
  }

  async start(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.portNumber = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Stop accepting connections (clients then get "connection refused"); `start()` again on the same port. */
  stopListening(): void {
    this.server.close();
  }

  get listening(): boolean {
    return this.server.listening;
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections?.();
  }

  /** A kubeconfig for a bearer token, as a pod's in-cluster config would give kubectl. */
  kubeconfig(token: string, namespace: string): string {
    const ca = Buffer.from(this.ca).toString('base64');
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: simulated',
      '  cluster:',
      `    server: ${this.url}`,
      `    certificate-authority-data: ${ca}`,
      'users:',
      '- name: service-account',
      '  user:',
      // Quoted: a hex token of digits (and one `e`) would be a number to kubectl's YAML reader.
      `    token: ${JSON.stringify(token)}`,
      'contexts:',
      '- name: in-cluster',
      '  context:',
      '    cluster: simulated',
      '    user: service-account',
      `    namespace: ${JSON.stringify(namespace)}`,
      'current-context: in-cluster',
      '',
    ].join('\n');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      let record: ApiRequest = { method: req.method ?? 'GET', url: req.url ?? '/', verb: '', code: 0 };
      const answer = (code: number, body: unknown, type = JSON_TYPE) => {
        res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-cache, private' });
        res.end(JSON.stringify(body));
        record = { ...record, code };
        this.opts.onRequest?.(token, record);
      };
      try {
        const info = requestInfo(record.method, url);
        record = { ...record, verb: info.resourceRequest ? info.verb : 'discovery', resource: info.resource || undefined, namespace: info.namespace || undefined, name: info.name || undefined };
        const user = token ? this.opts.authenticate(token) : undefined;
        if (!user) throw unauthorized();
        const attrs: Attributes = { ...info, user };
        const decision = authorize(this.opts.cluster.objects(), attrs);
        if (!decision.allowed) {
          const why = forbiddenMessage(attrs, decision.reason);
          throw info.resourceRequest ? forbidden({ group: info.group, resource: info.resource, name: info.name }, why) : new ApiError('Forbidden', `forbidden: ${why}`);
        }
        const body = chunks.length > 0 ? decodeBody(req.headers['content-type'], Buffer.concat(chunks).toString('utf8'), record.method) : undefined;
        if (body !== undefined) record = { ...record, body: body.value };
        if (info.resourceRequest && this.opts.inject?.(info.verb, record)) {
          record = { ...record, injected: true };
          throw internalError(`the cdk8s-mlops simulator injected a server error into this ${info.verb}`);
        }
        const out = this.serve(info, url, body, req.headers.accept, user);
        answer(out.code ?? 200, out.body, out.type);
      } catch (e) {
        if (!(e instanceof ApiError)) {
          const err = internalError(`the cdk8s-mlops simulator failed: ${(e as Error).message}`);
          record = { ...record, reason: err.reason, message: err.message };
          answer(500, err.status());
          throw e;
        }
        record = { ...record, reason: e.reason, message: e.message };
        answer(e.code, e.status());
      }
    });
  }

  private serve(info: RequestInfo, url: URL, body: Body | undefined, accept: string | undefined, user: User): { code?: number; body: unknown; type?: string } {
    if (!info.resourceRequest) return discovery(info.path, accept);
    const cluster = this.opts.cluster;
    const type = resourceInfo(info.group, info.version, info.resource);
    if (!type) throw new ApiError('NotFound', 'the server could not find the requested resource');
    const target = { group: type.group, resource: type.resource, name: info.name };
    if (info.resource === 'jobs' && info.subresource === '') {
      switch (info.verb) {
        case 'list':
          return { body: page(jobList(cluster.listJobs(info.namespace || undefined, selectorOf(url)), type), url, cluster.resourceVersion) };
        case 'get':
          return { body: typed(cluster.getJob(info.namespace, info.name), type) };
        case 'patch':
          if (body!.kind !== 'merge') throw unsupportedPatch(body!.kind);
          return { body: typed(cluster.patch(info.namespace, info.name, body!.value), type) };
        case 'create':
          return { code: 201, body: typed(cluster.create(info.namespace, body?.value), type) };
        case 'delete': {
          const policy = url.searchParams.get('propagationPolicy') ?? (isObject(body?.value) ? (body!.value.propagationPolicy as string | undefined) : undefined);
          const uid = cluster.deleteJob(info.namespace, info.name, 'API delete', policy as DeletePolicy | undefined);
          return { body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: info.name, group: 'batch', kind: 'jobs', uid } } };
        }
      }
    }
    if (info.resource === 'deployments' && info.subresource === '' && info.verb === 'patch') {
      return { body: typed(cluster.patchDeployment(info.namespace, info.name, mapOnlyPatch(body!)), type) };
    }
    // A run's reporter grant: Roles and RoleBindings, created within the creator's own rights.
    if (info.verb === 'create' && info.subresource === '' && (info.resource === 'roles' || info.resource === 'rolebindings')) {
      const created = cluster.createObject(type.kind, type.group, type.resource, info.namespace, body?.value, (o) => {
        const problem = escalationProblem(cluster.objects(), user, info.namespace, o, (role) => notFound({ group: type.group, resource: 'roles', name: role }));
        if (problem) throw forbidden({ ...target, name: o.metadata.name }, problem);
      });
      return { code: 201, body: typed(created, type) };
    }
    if (info.subresource === 'status' && info.verb === 'get' && info.resource === 'jobs') return { body: typed(cluster.getJob(info.namespace, info.name), type) };
    if (info.subresource === '' && info.verb === 'list') {
      const match = selectorOf(url);
      const items = cluster.objects().filter((o) => o.kind === type.kind && (!type.namespaced || !info.namespace || o.metadata.namespace === info.namespace) && match(o.metadata.labels ?? {}));
      return { body: page({ kind: `${type.kind}List`, apiVersion: apiVersion(type), metadata: {}, items: items.map(strip) }, url, cluster.resourceVersion) };
    }
    if (info.subresource === '' && info.verb === 'get') {
      const found = cluster.objects().find((o) => o.kind === type.kind && o.metadata.name === info.name && (!type.namespaced || o.metadata.namespace === info.namespace));
      if (!found) throw new ApiError('NotFound', `${type.group ? `${type.resource}.${type.group}` : type.resource} "${info.name}" not found`, { name: info.name, group: type.group, kind: type.resource });
      return { body: found };
    }
    throw new ApiError('MethodNotAllowed', `the cdk8s-mlops simulated API server does not serve ${info.verb} on ${target.resource}${info.subresource ? `/${info.subresource}` : ''}`);
  }
}

export type DeletePolicy = 'Orphan' | 'Background' | 'Foreground';

interface RequestInfo {
  readonly verb: string;
  readonly resourceRequest: boolean;
  readonly path: string;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * The request's attributes (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go,
 * NewRequestInfo): paths under /api/v1 and /apis/<group>/<version> are resource requests; a GET
 * without a name is `list` (`watch` with ?watch=true), POST `create`, PATCH `patch`, DELETE
 * `delete` (`deletecollection` without a name); anything else is a non-resource path.
 */
function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const parts = path.split('/').filter(Boolean);
  const none: RequestInfo = { verb: method.toLowerCase(), resourceRequest: false, path, group: '', version: '', resource: '', subresource: '', namespace: '', name: '' };
  let rest: string[];
  let group = '';
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) [version, ...rest] = parts.slice(1);
  else if (parts[0] === 'apis' && parts.length >= 4) [group, version, ...rest] = parts.slice(1);
  else return none;
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name = '', subresource = ''] = rest;
  const verbs: Record<string, string> = { GET: name ? 'get' : url.searchParams.get('watch') === 'true' ? 'watch' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: name ? 'delete' : 'deletecollection' };
  return { verb: verbs[method] ?? method.toLowerCase(), resourceRequest: true, path, group, version, resource, subresource, namespace, name };
}

function discovery(path: string, accept: string | undefined): { body: unknown; type?: string } {
  const aggregate = wantsAggregated(accept);
  if (path === '/version') return { body: SERVER_VERSION };
  if (path === '/api') return aggregate ? { body: aggregated('api'), type: AGGREGATED_V2BETA1 } : { body: legacyVersions() };
  if (path === '/apis') return aggregate ? { body: aggregated('apis'), type: AGGREGATED_V2BETA1 } : { body: legacyGroups() };
  const parts = path.split('/').filter(Boolean);
  const doc = parts[0] === 'api' && parts.length === 2 ? legacyResources('', parts[1])
    : parts[0] === 'apis' && parts.length === 2 ? legacyGroup(parts[1])
      : parts[0] === 'apis' && parts.length === 3 ? legacyResources(parts[1], parts[2])
        : undefined;
  if (!doc) throw new ApiError('NotFound', 'the server could not find the requested resource');
  return { body: doc };
}

type Body = { kind: 'merge' | 'strategic' | 'json-patch' | 'apply' | 'json'; value: any };

/** The body by its Content-Type, as the patch handler (handlers/patch.go) tells the patch types apart. */
function decodeBody(contentType: string | undefined, text: string, method: string): Body {
  const type = (contentType ?? JSON_TYPE).split(';')[0].trim();
  const kinds: Record<string, Body['kind']> = {
    'application/merge-patch+json': 'merge',
    'application/strategic-merge-patch+json': 'strategic',
    'application/json-patch+json': 'json-patch',
    'application/apply-patch+yaml': 'apply',
    'application/json': 'json',
  };
  const kind = kinds[type];
  if (!kind || (method === 'PATCH' && kind === 'json')) {
    throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${method === 'PATCH' ? 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json' : 'application/json, application/yaml'}`);
  }
  try {
    return { kind, value: kind === 'apply' ? parseYaml(text) : JSON.parse(text) };
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
}

/** The coordinator sends merge patches; the others are refused by name rather than modelled wrongly. */
function unsupportedPatch(kind: Body['kind']): ApiError {
  const what = { strategic: 'strategic merge patches', 'json-patch': 'JSON patches', apply: 'server-side apply', merge: '', json: '' }[kind];
  return new ApiError('UnsupportedMediaType', `the cdk8s-mlops simulated API server models only JSON merge patches (kubectl patch --type=merge), not ${what}`);
}

/**
 * A patch that only sets or deletes map keys, as a JSON merge patch. A strategic merge patch
 * differs from a JSON merge patch only on lists (merged by their patch strategy) and on
 * `$`-directives (staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go, mergeMap);
 * `kubectl rollout restart` sends one with a single annotation
 * (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/objectrestarter.go). A patch with a list
 * or a directive is refused by name rather than modelled wrongly.
 */
function mapOnlyPatch(body: Body): unknown {
  if (body.kind !== 'merge' && body.kind !== 'strategic') throw unsupportedPatch(body.kind);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) throw new ApiError('UnsupportedMediaType', 'the cdk8s-mlops simulated API server models patches of Deployments that only set map keys; this one has a list');
    if (!isObject(v)) return;
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('$')) throw new ApiError('UnsupportedMediaType', `the cdk8s-mlops simulated API server does not model the strategic merge directive ${k}`);
      walk(x);
    }
  };
  walk(body.value);
  return body.value;
}

function selectorOf(url: URL): (labels: Record<string, string>) => boolean {
  const fields = url.searchParams.get('fieldSelector');
  if (fields) throw badRequest(`the cdk8s-mlops simulated API server does not model field selectors ("${fields}")`);
  return parseSelector(url.searchParams.get('labelSelector') ?? '');
}

function apiVersion(t: ResourceInfo): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** Items of a list carry no kind and apiVersion of their own (the client adds them back). */
function strip(o: Record<string, any>): Record<string, any> {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
}

function typed(o: Record<string, any>, t: ResourceInfo): Record<string, any> {
  return { kind: t.kind, apiVersion: apiVersion(t), ...strip(o) };
}

function jobList(items: Array<Record<string, any>>, t: ResourceInfo): { kind: string; apiVersion: string; metadata: Record<string, unknown>; items: unknown[] } {
  return { kind: 'JobList', apiVersion: apiVersion(t), metadata: {}, items: items.map(strip) };
}

/**
 * `limit` and `continue` (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go, GetList):
 * items in key order (namespace/name), at most `limit` per page, a continue token naming
 * the next key, and `remainingItemCount` when a page stops short.
 */
function page(list: { kind: string; apiVersion: string; metadata: Record<string, unknown>; items: unknown[] }, url: URL, resourceVersion: string): unknown {
  const limit = Number(url.searchParams.get('limit') ?? 0);
  const token = url.searchParams.get('continue');
  const key = (o: any) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  let items = [...list.items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  if (token) {
    let start: string;
    try {
      start = JSON.parse(Buffer.from(token, 'base64').toString('utf8')).start;
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
    }
    items = items.filter((o) => key(o) >= start);
  }
  const metadata: Record<string, unknown> = { ...list.metadata, resourceVersion };
  if (limit > 0 && items.length > limit) {
    metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', start: key(items[limit]) })).toString('base64');
    metadata.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
  }
  return { ...list, metadata, items };
}
