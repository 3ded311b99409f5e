/**
 * A picture of a pipeline before it runs: its nodes with what a reviewer checks (image,
 * resources, GPUs), the parallel levels, the critical path and the run's settings.
 *
 * One shape for both sources: `Pipeline.toDiagram()` builds it from the model, and
 * `cdk8s-mlops graph` from synthesized YAML, so the Mermaid, DOT and HTML writers draw
 * either the same way, and a test can prove the two agree.
 */
import { criticalPath, findCycles, levelsOf } from './graph-algorithms';

/** One node: a batch step, or another node kind of the plan (a gate, an exit handler). */
export interface DiagramNode {
  /** The step's name. */
  readonly name: string;
  /**
   * The plan's node kind (docs/coordinator-contract.md, column 5): `job` for a batch step,
   * `gate` for a gate's decision; kinds added later draw as a plain node with their name.
   */
  readonly kind: string;
  /** Container image of the step's main container; empty when unknown. */
  readonly image: string;
  /** Standard requests (`cpu`, `memory`, `ephemeral-storage`) of one pod, as quantities. */
  readonly requests: Readonly<Record<string, string>>;
  /** Standard limits of one pod, as quantities. */
  readonly limits: Readonly<Record<string, string>>;
  /** Extended resources (`nvidia.com/gpu`, ...) of the whole step: per pod times `parallelism`. */
  readonly accelerators: Readonly<Record<string, number>>;
  /** Pods of the step that run at once (a fan-out's parallelism), 1 for a single pod. */
  readonly parallelism: number;
  /** 0 for a node without upstream, else 1 + the deepest upstream's level. */
  readonly level: number;
  /** Upstream node names, sorted. */
  readonly upstreams: readonly string[];
  /**
   * When the node is released (column 4): `all-succeeded`, `all-done`, `one-failed`,
   * `none-failed` or `exit` (an exit handler, which waits for every other node).
   */
  readonly trigger: string;
  /** The run-time condition as text (`train.auc >= 0.8`), when the node has one. */
  readonly condition?: string;
}

/** One parallel level: nodes that may run side by side. */
export interface DiagramLevel {
  readonly level: number;
  /** Node names, sorted. */
  readonly nodes: readonly string[];
  /** Extended resources of the level when all its nodes run at once, summed over kinds. */
  readonly gpus: number;
}

/** A long-running or scheduled object of the pipeline (Deployment, Service, CronJob, ...). */
export interface DiagramServing {
  readonly kind: string;
  readonly name: string;
  /** One line about it (image, replicas, schedule, ports), empty when there is nothing to say. */
  readonly detail: string;
}

/** A whole pipeline, ready to draw. */
export interface PipelineDiagram {
  readonly pipeline: string;
  readonly namespace: string;
  /** Nodes by level, then by name. */
  readonly nodes: readonly DiagramNode[];
  readonly levels: readonly DiagramLevel[];
  /** The longest chain by node count; ties go to the chain whose names sort first. */
  readonly criticalPath: readonly string[];
  /** Cap on steps running at once; 0 when uncapped. */
  readonly maxParallel: number;
  /** Trade-offs and problems worth reading before the run, one sentence each. */
  readonly warnings: readonly string[];
  /** Serving and scheduling objects of the pipeline, by kind then name. */
  readonly serving: readonly DiagramServing[];
}

/** The default trigger rule: what a node without one in the plan does. */
export const DEFAULT_TRIGGER = 'all-succeeded';

/** The trigger rule of an exit handler in the plan (docs/coordinator-contract.md, column 4). */
export const EXIT_TRIGGER = 'exit';

/** What a source knows of a pipeline; `buildDiagram` works out the rest. */
export interface DiagramInput {
  readonly pipeline: string;
  readonly namespace: string;
  /** Nodes in any order; `level` is computed. */
  readonly nodes: readonly Omit<DiagramNode, 'level'>[];
  readonly maxParallel: number;
  readonly warnings: readonly string[];
  readonly serving: readonly DiagramServing[];
}

/**
 * Levels, order and critical path of the nodes, computed the same way whatever the source.
 * Nodes are numbered in name order, so every tie goes to the smaller name. An exit handler
 * counts as downstream of every node nothing else waits for: it runs last. Throws when the
 * nodes form a cycle, naming it.
 */
export function buildDiagram(input: DiagramInput): PipelineDiagram {
  const sorted = [...input.nodes].sort((a, b) => byName(a.name, b.name));
  const index = new Map(sorted.map((n, i) => [n.name, i]));
  const sinks = exitUpstreams(sorted);
  const upstream = sorted.map((n) => (isExitWithoutUpstream(n) ? sinks : n.upstreams).flatMap((u) => {
    const i = index.get(u);
    return i === undefined ? [] : [i];
  }));
  const cycle = findCycles(upstream)[0];
  if (cycle) throw new Error(`dependency cycle ${[...cycle, cycle[0]].map((i) => sorted[i].name).join(' => ')}`);
  const levelOf = levelsOf(upstream);
  const nodes: DiagramNode[] = sorted
    .map((n, i) => ({ ...n, upstreams: [...new Set(n.upstreams)].filter((u) => index.has(u)).sort(byName), level: levelOf[i] }))
    .sort((a, b) => a.level - b.level || byName(a.name, b.name));
  const levels: { level: number; nodes: string[]; gpus: number }[] = [];
  for (const node of nodes) {
    const level = (levels[node.level] ??= { level: node.level, nodes: [], gpus: 0 });
    level.nodes.push(node.name);
    level.gpus += Object.values(node.accelerators).reduce((a, b) => a + b, 0);
  }
  return {
    pipeline: input.pipeline,
    namespace: input.namespace,
    nodes,
    levels,
    criticalPath: criticalPath(upstream).map((i) => sorted[i].name),
    maxParallel: input.maxParallel,
    warnings: input.warnings,
    serving: [...input.serving].sort((a, b) => byName(a.kind, b.kind) || byName(a.name, b.name)),
  };
}

function isExitWithoutUpstream(node: { readonly trigger: string; readonly upstreams: readonly string[] }): boolean {
  return node.trigger === EXIT_TRIGGER && node.upstreams.length === 0;
}

/** The nodes an exit handler waits for: every other node that nothing waits for, sorted. */
function exitUpstreams(nodes: readonly { readonly name: string; readonly trigger: string; readonly upstreams: readonly string[] }[]): string[] {
  const waitedFor = new Set(nodes.flatMap((n) => n.upstreams));
  return nodes.filter((n) => n.trigger !== EXIT_TRIGGER && !waitedFor.has(n.name)).map((n) => n.name).sort(byName);
}

/** An edge of the diagram, derived from the nodes' upstreams. */
export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  /** Both ends on the critical path, one after the other. */
  readonly critical: boolean;
  /** The downstream node's trigger rule and condition, when not the default; empty otherwise. */
  readonly label: string;
}

/**
 * Every edge, in node order then upstream order (so renderers that refer to edges by index,
 * like Mermaid's `linkStyle`, are deterministic). An exit handler has no upstream in the plan:
 * it gets an `exit` edge from every node nothing else waits for, since it runs once they are final.
 */
export function diagramEdges(diagram: PipelineDiagram): DiagramEdge[] {
  const onPath = new Map(diagram.criticalPath.map((name, i) => [name, i]));
  const critical = (from: string, to: string) => onPath.has(from) && onPath.get(to) === onPath.get(from)! + 1;
  const sinks = exitUpstreams(diagram.nodes);
  const edges: DiagramEdge[] = [];
  for (const node of diagram.nodes) {
    const label = edgeLabel(node);
    const upstreams = isExitWithoutUpstream(node) ? sinks : node.upstreams;
    for (const up of upstreams) edges.push({ from: up, to: node.name, critical: critical(up, node.name), label });
  }
  return edges;
}

function edgeLabel(node: DiagramNode): string {
  const parts: string[] = [];
  if (node.trigger !== DEFAULT_TRIGGER) parts.push(node.trigger);
  if (node.condition) parts.push(`if ${node.condition}`);
  return parts.join(', ');
}

/** `cpu 500m/2, memory 2Gi/4Gi`: request/limit of each standard resource (one value when equal). */
export function resourceSummary(node: DiagramNode): string {
  const names = [...new Set([...Object.keys(node.requests), ...Object.keys(node.limits)])].sort(byResource);
  return names.map((name) => {
    const request = node.requests[name];
    const limit = node.limits[name];
    const value = request === undefined || limit === undefined || request === limit ? (request ?? limit) : `${request}/${limit}`;
    return `${name} ${value}`;
  }).join(', ');
}

/** `1 nvidia.com/gpu`: the step's extended resources, empty when it has none. */
export function acceleratorSummary(node: DiagramNode): string {
  return Object.keys(node.accelerators).sort().map((k) => `${node.accelerators[k]} ${k}`).join(', ');
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const RESOURCE_ORDER = ['cpu', 'memory', 'ephemeral-storage'];

function byResource(a: string, b: string): number {
  const ia = RESOURCE_ORDER.indexOf(a);
  const ib = RESOURCE_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? RESOURCE_ORDER.length : ia) - (ib < 0 ? RESOURCE_ORDER.length : ib);
  return byName(a, b);
}
