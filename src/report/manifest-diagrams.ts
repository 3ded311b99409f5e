/**
 * Diagrams of the pipelines found in synthesized YAML, through verify's reading of it: its
 * plan gives the steps, their upstreams and GPUs; the coordinator ConfigMap's plan gives
 * each node's kind, trigger rule and condition; verify's checks give the warnings. The YAML
 * may come from anywhere, so every field is read defensively and nothing in it is run.
 */
import { buildDiagram, DiagramInput, DiagramServing, PipelineDiagram } from '../model/diagram';
import { RUN_HASH_PLACEHOLDER, RUN_PLACEHOLDER } from '../backends/plain/scheduled-run';
import { PIPELINE_LABEL, PLAN_KEY } from '../verify/conventions';
import { indexObjects, ObjectSet } from '../verify/index-set';
import { containersOf, describeObject, ObjectInfo } from '../verify/objects';
import { collectPipelines, parsePlan, PipelineObjects, PlanLine } from '../verify/pipeline';
import { isExtendedResource, PipelinePlan, plansOf } from '../verify/plan';
import { asArray, asRecord, asString, isRecord, KubeObject, Problem } from '../verify/types';
import { verifyObjects } from '../verify/verify';

/** A pipeline that could not be drawn, and why. */
export interface DiagramFailure {
  readonly pipeline: string;
  readonly namespace: string;
  readonly message: string;
}

/** A drawable pipeline and the files its objects came from. */
export interface DrawnPipeline {
  readonly diagram: PipelineDiagram;
  /** Files of its objects, in input order; empty when the caller gave no sources. */
  readonly files: readonly string[];
}

export interface ManifestDiagrams {
  /** One per drawable pipeline, by namespace then name. */
  readonly diagrams: DrawnPipeline[];
  readonly failures: DiagramFailure[];
}

/** Key of the coordinator ConfigMap holding a scheduled pipeline's run templates (docs/schedules.md). */
const RUN_TEMPLATES_KEY = 'jobs';

/** Kinds drawn beside the steps: what serves or schedules, not what a step run needs. */
const SERVING_KINDS = new Set([
  'Deployment', 'StatefulSet', 'DaemonSet', 'Service', 'Ingress', 'CronJob', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy',
]);

/**
 * Every pipeline of `objects` as a diagram. `namespace` is the one of objects that set none;
 * `sources` (`file#document` per object) lets warnings say where they come from.
 */
export function diagramsOfManifests(
  given: readonly unknown[],
  options: { readonly namespace?: string; readonly sources?: readonly string[] } = {},
): ManifestDiagrams {
  const namespace = options.namespace ?? 'default';
  const { objects, sources } = withRunTemplates(given, options.sources);
  options = { ...options, sources };
  const infos = objects.flatMap((o, i) => (isRecord(o) ? [describeObject(o as KubeObject, i, namespace)] : []));
  const set = indexObjects(infos, options.sources);
  // Warnings are verify's on the YAML as written: the run templates are not objects it applies.
  const { problems } = verifyObjects(given, { namespace, sources: options.sources?.slice(0, given.length), unknownKinds: 'warning' });
  const pipelines = new Map(collectPipelines(set).map((p) => [`${p.namespace}/${p.name}`, p]));
  const diagrams: DrawnPipeline[] = [];
  const failures: DiagramFailure[] = [];
  for (const plan of plansOf(set)) {
    const p = pipelines.get(`${plan.namespace}/${plan.pipeline}`)!;
    if (plan.cycles.length) {
      const cycles = plan.cycles.map((c) => [...c, c[0]].join(' => ')).join('; ');
      failures.push({ pipeline: plan.pipeline, namespace: plan.namespace, message: `cannot order the steps: dependency cycle ${cycles}` });
      continue;
    }
    const files = membersOf(p, set).flatMap((o) => {
      const source = options.sources?.[o.index];
      return source === undefined ? [] : [source.slice(0, source.lastIndexOf('#'))];
    });
    diagrams.push({ diagram: buildDiagram(inputOf(plan, p, set, problems)), files: [...new Set(files)] });
  }
  return { diagrams, failures };
}

function inputOf(plan: PipelinePlan, p: PipelineObjects, set: ObjectSet, problems: readonly Problem[]): DiagramInput {
  const planText = asString(asRecord(p.planConfigMaps[0]?.obj.data)?.[PLAN_KEY]);
  const columns = new Map<string, PlanLine>(planText === undefined ? [] : parsePlan(planText).lines.map((l) => [l.step, l]));
  const members = membersOf(p, set);
  const labels = new Set(members.map((o) => o.label));
  return {
    pipeline: plan.pipeline,
    namespace: plan.namespace,
    nodes: plan.steps.map((s) => {
      const line = columns.get(s.step);
      // A node the library runs itself (a gate): no user container to show, as the model draws it.
      const { image, requests, limits } = (line?.kind ?? 'job') === 'job' ? mainContainerOf(p.steps.get(s.step)!.job, set) : { image: '', requests: {}, limits: {} };
      return {
        name: s.step,
        kind: line?.kind ?? 'job',
        image,
        requests,
        limits,
        accelerators: s.resources,
        parallelism: s.parallelism,
        upstreams: s.upstreams,
        trigger: line?.trigger ?? 'all-succeeded',
        condition: line?.condition === undefined ? undefined : conditionText(line.condition),
      };
    }),
    maxParallel: plan.maxParallel,
    warnings: [...new Set(problems.filter((pr) => labels.has(pr.object)).map((pr) => `${pr.severity}: ${pr.message}`))],
    serving: members.filter((o) => SERVING_KINDS.has(o.kind)).map((o) => servingOf(o, set)),
  };
}

/**
 * A pipeline with a schedule or run on demand has no step Jobs in its YAML: each run creates
 * them from the templates in its coordinator ConfigMap (`jobs`: `{"run": [...], "shared": [...]}`,
 * docs/schedules.md). They are drawn as one run would create them, with the run's name and
 * hash placeholders filled in. Templates that are not that shape are left out.
 */
function withRunTemplates(objects: readonly unknown[], sources: readonly string[] | undefined): { objects: unknown[]; sources?: string[] } {
  const extra: unknown[] = [];
  const extraSources: string[] = [];
  objects.forEach((o, i) => {
    const cm = asRecord(o);
    const text = asString(asRecord(cm?.data)?.[RUN_TEMPLATES_KEY]);
    if (cm?.kind !== 'ConfigMap' || text === undefined || asString(asRecord(cm.data)?.[PLAN_KEY]) === undefined) return;
    let templates: Record<string, unknown> | undefined;
    try {
      templates = asRecord(JSON.parse(text.split(RUN_HASH_PLACEHOLDER).join('00000000').split(RUN_PLACEHOLDER).join('run')));
    } catch {
      return;
    }
    for (const job of [...asArray(templates?.run), ...asArray(templates?.shared)]) {
      if (asRecord(job)?.kind !== 'Job') continue;
      extra.push(job);
      extraSources.push(`${sources?.[i] ?? `document #${i + 1}`}/${RUN_TEMPLATES_KEY}`);
    }
  });
  return {
    objects: [...objects, ...extra],
    sources: sources && [...sources, ...extraSources],
  };
}

/** The pod annotation naming the container `kubectl logs` and `exec` pick by default. */
const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** Every object labelled with the pipeline, in its namespace. */
function membersOf(p: PipelineObjects, set: ObjectSet): ObjectInfo[] {
  return set.all.filter((o) => o.namespace === p.namespace && o.labels[PIPELINE_LABEL] === p.name);
}

/**
 * Image and standard resources of the step's own container: the one the pod template names
 * as `kubectl.kubernetes.io/default-container` (a step that reports values runs its own as
 * the last init container, the reporter after it), else `main`, else the first one.
 */
function mainContainerOf(job: ObjectInfo, set: ObjectSet): { image: string; requests: Record<string, string>; limits: Record<string, string> } {
  const pod = set.podTemplateOf(job);
  const all = pod ? containersOf(pod) : [];
  const containers = all.filter((c) => !c.init);
  const named = pod?.annotations[DEFAULT_CONTAINER_ANNOTATION];
  const main = (all.find((c) => named !== undefined && c.name === named) ?? containers.find((c) => c.name === 'main') ?? containers[0])?.container;
  const resources = asRecord(main?.resources);
  return { image: asString(main?.image) ?? '', requests: standard(resources?.requests), limits: standard(resources?.limits) };
}

function standard(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(value) ?? {})) {
    if (!isExtendedResource(k) && (typeof v === 'string' || typeof v === 'number')) out[k] = String(v);
  }
  return out;
}

function servingOf(o: ObjectInfo, set: ObjectSet): DiagramServing {
  const spec = asRecord(o.obj.spec) ?? {};
  const parts: string[] = [];
  const pod = set.podTemplateOf(o);
  if (pod) parts.push(...containersOf(pod).filter((c) => !c.init).flatMap((c) => asString(c.container.image) ?? []));
  if (typeof spec.replicas === 'number') parts.push(`${spec.replicas} replica${spec.replicas === 1 ? '' : 's'}`);
  if (typeof spec.schedule === 'string') parts.push(`schedule ${spec.schedule}`);
  if (o.kind === 'Service') {
    const ports = asArray(spec.ports).flatMap((x) => {
      const port = asRecord(x)?.port;
      return typeof port === 'number' ? [String(port)] : [];
    });
    if (ports.length) parts.push(`port${ports.length === 1 ? '' : 's'} ${ports.join(', ')}`);
  }
  if (o.kind === 'HorizontalPodAutoscaler' && typeof spec.maxReplicas === 'number') {
    parts.push(`${typeof spec.minReplicas === 'number' ? spec.minReplicas : 1} to ${spec.maxReplicas} replicas`);
  }
  return { kind: o.kind, name: o.name, detail: parts.join(', ') };
}

/**
 * `train.auc >= 0.8` from the plan's condition JSON (docs/coordinator-contract.md, column 6);
 * the raw text when it is not that shape, so a reviewer still sees what the plan says.
 */
export function conditionText(json: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return json;
  }
  const c = asRecord(parsed);
  const side = (v: unknown): string | undefined => {
    const r = asRecord(v);
    if (typeof r?.step === 'string' && typeof r.value === 'string') return `${r.step}.${r.value}`;
    if (r && 'const' in r) return JSON.stringify(r.const);
    return undefined;
  };
  const left = side(c?.left);
  const right = side(c?.right);
  return left !== undefined && right !== undefined && typeof c?.op === 'string' ? `${left} ${c.op} ${right}` : json;
}
