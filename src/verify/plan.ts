/**
 * The plan a reviewer wants to see before applying: per pipeline, the order steps can run
 * in, which steps run side by side, the chain that bounds the run time, and how many GPUs
 * (and other extended resources) each wave of steps asks for at once. Derived from the step
 * Jobs themselves (labels and depends-on annotations), not from the coordinator's plan, so it
 * shows what will really run; the checks report when the two disagree.
 */
import { criticalPath, findCycles, levelsOf, showCycle, topologicalOrder } from './graph';
import { indexObjects, ObjectSet } from './index-set';
import { containersOf, describeObject, ObjectInfo, PodTemplate } from './objects';
import { PLAN_KEY } from '../conventions';
import { collectPipelines, parsePlan, PipelineObjects, upstreamGraph } from './pipeline';
import { parseQuantity } from './quantity';
import { asRecord, asString, byString, isRecord, KubeObject } from './types';

export interface PlanStep {
  readonly step: string;
  /** Name of the step's Job. */
  readonly job: string;
  /** Upstream steps, sorted (only those that exist in the pipeline). */
  readonly upstreams: readonly string[];
  /** Longest chain of upstreams below it: 0 for a step with none. -1 when the step is on or behind a cycle. */
  readonly level: number;
  /** Pods that run at once: `min(parallelism, completions)`, 1 by default. */
  readonly parallelism: number;
  /** Extended resources (`nvidia.com/gpu`, ...) for the whole step: per pod times parallelism. */
  readonly resources: Readonly<Record<string, number>>;
  /** The cap of the step's group (plan column 9: a fan-out, a sweep): at most `n` of its members run at once. */
  readonly groupCap?: { readonly group: string; readonly n: number };
}

export interface PlanLevel {
  readonly level: number;
  /** Steps of this level, by name; they may all run at the same time. */
  readonly steps: readonly string[];
  /** Extended resources the level asks for when all its steps run at once. */
  readonly resources: Readonly<Record<string, number>>;
  /** Sum of all extended resources of the level (GPUs, in practice). */
  readonly gpus: number;
}

export interface PipelinePlan {
  readonly pipeline: string;
  readonly namespace: string;
  /** Steps in topological order (by level, then name). */
  readonly steps: readonly PlanStep[];
  readonly order: readonly string[];
  readonly levels: readonly PlanLevel[];
  /** Longest chain by step count; ties go to the chain that sorts first by name. */
  readonly criticalPath: readonly string[];
  /** Name of the coordinator Job, when there is one. */
  readonly coordinator?: string;
  /** The coordinator's cap on steps running at once (`MLOPS_MAX_PARALLEL`); 0 when uncapped. */
  readonly maxParallel: number;
  /** Dependency cycles (each as steps in flow order); when present, order, levels and critical path are empty. */
  readonly cycles: readonly (readonly string[])[];
}

/**
 * Plans of every pipeline in `objects`, without running the checks (use `verifyObjects`
 * for both). `namespace` is the one of objects that set none, default `'default'`.
 */
export function derivePlans(objects: readonly unknown[], options: { readonly namespace?: string } = {}): PipelinePlan[] {
  const infos = objects.flatMap((o, i) => (isRecord(o) ? [describeObject(o as KubeObject, i, options.namespace ?? 'default')] : []));
  return plansOf(indexObjects(infos));
}

/** Plans over an already indexed set (what `verifyObjects` uses). */
export function plansOf(set: ObjectSet): PipelinePlan[] {
  return collectPipelines(set).filter((p) => p.steps.size > 0).map((p) => planOf(p, set));
}

function planOf(p: PipelineObjects, set: ObjectSet): PipelinePlan {
  const graph = upstreamGraph(p);
  const cycles = findCycles(graph);
  const base = {
    pipeline: p.name,
    namespace: p.namespace,
    coordinator: p.coordinators[0]?.name,
    maxParallel: maxParallelOf(p.coordinators[0]),
  };
  const planText = asString(asRecord(p.planConfigMaps[0]?.obj.data)?.[PLAN_KEY]);
  const caps = new Map((planText === undefined ? [] : parsePlan(planText).lines).flatMap((l) => {
    const m = /^([^:]+):(\d+)$/.exec(l.cap ?? '');
    return m ? [[l.step, { group: m[1], n: Number(m[2]) }] as const] : [];
  }));
  const stepOf = (name: string, level: number): PlanStep => {
    const sj = p.steps.get(name)!;
    const { parallelism, resources } = extendedResources(sj.job, set.podTemplateOf(sj.job));
    return {
      step: name,
      job: sj.job.name,
      upstreams: [...new Set(sj.upstreams)].filter((u) => p.steps.has(u)).sort(byString),
      level,
      parallelism,
      resources,
      groupCap: caps.get(name),
    };
  };
  if (cycles.length) {
    return { ...base, steps: [...p.steps.keys()].sort(byString).map((s) => stepOf(s, -1)), order: [], levels: [], criticalPath: [], cycles };
  }
  const levels = levelsOf(graph);
  const order = topologicalOrder(graph, levels);
  const steps = order.map((s) => stepOf(s, levels.get(s)!));
  const byLevel: PlanLevel[] = [];
  for (const s of steps) {
    let lvl = byLevel[s.level];
    if (!lvl) lvl = byLevel[s.level] = { level: s.level, steps: [], resources: {}, gpus: 0 };
    (lvl.steps as string[]).push(s.step);
    const res = lvl.resources as Record<string, number>;
    for (const [k, v] of Object.entries(s.resources)) res[k] = (res[k] ?? 0) + v;
    (lvl as { gpus: number }).gpus += Object.values(s.resources).reduce((a, b) => a + b, 0);
  }
  return { ...base, steps, order, levels: byLevel, criticalPath: criticalPath(graph), cycles: [] };
}

/**
 * Resource names outside the kubernetes.io domain are extended resources (device plugins:
 * `nvidia.com/gpu`, `amd.com/gpu`, ...). Unprefixed names (cpu, memory, ephemeral-storage,
 * hugepages-*) and `*.kubernetes.io/*` ones are standard and not counted.
 */
export function isExtendedResource(name: string): boolean {
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const domain = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) return false;
  return !rest.startsWith('hugepages-');
}

function extendedResources(job: ObjectInfo, pod: PodTemplate | undefined): { parallelism: number; resources: Record<string, number> } {
  const spec = asRecord(job.obj.spec);
  const p = typeof spec?.parallelism === 'number' ? spec.parallelism : 1;
  const c = typeof spec?.completions === 'number' ? spec.completions : undefined;
  const parallelism = Math.max(0, c === undefined ? p : Math.min(p, c));
  const perPod: Record<string, number> = {};
  if (pod) {
    // A pod holds max(sum of app containers, largest init container) of each resource.
    const app: Record<string, number> = {};
    const init: Record<string, number> = {};
    for (const c of containersOf(pod)) {
      const res = asRecord(c.container.resources);
      const limits = { ...asRecord(res?.requests), ...asRecord(res?.limits) };
      for (const [k, v] of Object.entries(limits)) {
        if (!isExtendedResource(k)) continue;
        const n = parseQuantity(v) ?? 0;
        if (c.init) init[k] = Math.max(init[k] ?? 0, n);
        else app[k] = (app[k] ?? 0) + n;
      }
    }
    for (const k of new Set([...Object.keys(app), ...Object.keys(init)])) perPod[k] = Math.max(app[k] ?? 0, init[k] ?? 0);
  }
  const resources: Record<string, number> = {};
  for (const k of Object.keys(perPod).sort(byString)) {
    if (perPod[k] > 0) resources[k] = perPod[k] * parallelism;
  }
  return { parallelism, resources };
}

function maxParallelOf(coordinator: ObjectInfo | undefined): number {
  const containers = asRecord(asRecord(asRecord(asRecord(coordinator?.obj.spec)?.template)?.spec))?.containers;
  const env = Array.isArray(containers) ? asRecord(containers[0])?.env : undefined;
  const entry = Array.isArray(env) ? env.map(asRecord).find((e) => e?.name === 'MLOPS_MAX_PARALLEL') : undefined;
  const n = Number(entry?.value);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * The extended resources one level holds when its steps run side by side: all of them, or
 * under a cap the `cap` hungriest, and of a capped group (a fan-out, a sweep) its `n`
 * hungriest members. Steps of adjacent levels can also overlap, so this is what the
 * cluster must offer at least for the run not to queue on GPUs.
 */
function peakOf(plan: PipelinePlan): number {
  return plan.levels.reduce((peak, level) => {
    const steps = level.steps.map((name) => plan.steps.find((s) => s.step === name)!)
      .map((s) => ({ group: s.groupCap, total: Object.values(s.resources).reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total);
    const taken = new Map<string, number>();
    const totals = steps.filter(({ group }) => {
      if (!group) return true;
      taken.set(group.group, (taken.get(group.group) ?? 0) + 1);
      return taken.get(group.group)! <= group.n;
    }).map((s) => s.total);
    const running = plan.maxParallel > 0 ? totals.slice(0, plan.maxParallel) : totals;
    return Math.max(peak, running.reduce((a, b) => a + b, 0));
  }, 0);
}

function showResources(res: Readonly<Record<string, number>>): string {
  const parts = Object.keys(res).sort(byString).map((k) => `${k}: ${res[k]}`);
  return parts.length ? parts.join(', ') : 'no GPUs';
}

/** Text rendering of plans, as `cdk8s-mlops verify` prints them. */
export function renderPlans(plans: readonly PipelinePlan[]): string {
  return plans.map(renderPlan).join('\n');
}

export function renderPlan(plan: PipelinePlan): string {
  const lines: string[] = [];
  const coord = plan.coordinator ? `, coordinator ${plan.coordinator}` : ', no coordinator';
  lines.push(`pipeline ${plan.pipeline} (namespace ${plan.namespace}): ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}${coord}`);
  if (plan.cycles.length) {
    for (const c of plan.cycles) lines.push(`  cannot order the steps: dependency cycle ${showCycle(c)}`);
    return lines.join('\n') + '\n';
  }
  const width = Math.max(...plan.steps.map((s) => s.step.length), 4);
  for (const lvl of plan.levels) {
    lines.push(`  level ${lvl.level}: ${lvl.steps.join(', ')} (${showResources(lvl.resources)})`);
    for (const name of lvl.steps) {
      const s = plan.steps.find((x) => x.step === name)!;
      const after = s.upstreams.length ? `after ${s.upstreams.join(', ')}` : 'first';
      const par = s.parallelism !== 1 ? `, parallelism ${s.parallelism}` : '';
      lines.push(`    ${name.padEnd(width)}  ${s.job}  ${after}${par}${Object.keys(s.resources).length ? `, ${showResources(s.resources)}` : ''}`);
    }
  }
  lines.push(`  critical path (${plan.criticalPath.length} step${plan.criticalPath.length === 1 ? '' : 's'}): ${plan.criticalPath.join(' => ')}`);
  const peak = peakOf(plan);
  if (peak > 0) {
    const groups = [...new Map(plan.steps.flatMap((s) => (s.groupCap ? [[s.groupCap.group, s.groupCap.n] as const] : []))).entries()];
    const caps = [
      ...(plan.maxParallel > 0 ? [`at most ${plan.maxParallel} step${plan.maxParallel === 1 ? '' : 's'} run at once`] : []),
      ...groups.map(([g, n]) => `at most ${n} of ${g} at once`),
    ];
    const cap = caps.length > 0 ? ` (${caps.join('; ')})` : '';
    lines.push(`  peak extended resources of one level running side by side: ${peak}${cap}`);
  }
  return lines.join('\n') + '\n';
}
