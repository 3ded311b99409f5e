/**
 * Finds the pipelines in a set of objects by the labels of docs/ordering.md: step Jobs carry
 * `mlops.cdk8s.io/pipeline` + `mlops.cdk8s.io/step` (+ the `depends-on` annotation), the
 * coordinator Job carries `mlops.cdk8s.io/role: coordinator`, and its ConfigMap holds `plan`.
 */
import { COORDINATOR_ROLE, DEPENDS_ON_ANNOTATION, PIPELINE_LABEL, PLAN_KEY, ROLE_LABEL, STEP_LABEL } from './conventions';
import { ObjectSet } from './index-set';
import { ObjectInfo } from './objects';
import { asArray, asRecord, asString, byString } from './types';

export interface StepJob {
  readonly step: string;
  readonly job: ObjectInfo;
  /** Upstream step ids from the `depends-on` annotation, in the order written. */
  readonly upstreams: readonly string[];
}

export interface PipelineObjects {
  readonly name: string;
  readonly namespace: string;
  /** First Job per step id. */
  readonly steps: ReadonlyMap<string, StepJob>;
  /** Further Jobs claiming a step id already taken. */
  readonly duplicateSteps: readonly StepJob[];
  readonly coordinators: readonly ObjectInfo[];
  /** ConfigMaps of the pipeline with a `plan` key; the coordinator's own first. */
  readonly planConfigMaps: readonly ObjectInfo[];
}

export function parseDependsOn(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export function collectPipelines(set: ObjectSet): PipelineObjects[] {
  interface Building {
    name: string;
    namespace: string;
    steps: Map<string, StepJob>;
    duplicateSteps: StepJob[];
    coordinators: ObjectInfo[];
    configMaps: ObjectInfo[];
  }
  const pipelines = new Map<string, Building>();
  const get = (info: ObjectInfo, name: string): Building => {
    const key = `${info.namespace}\u0000${name}`;
    let p = pipelines.get(key);
    if (!p) {
      p = { name, namespace: info.namespace, steps: new Map(), duplicateSteps: [], coordinators: [], configMaps: [] };
      pipelines.set(key, p);
    }
    return p;
  };
  for (const info of set.all) {
    const name = info.labels[PIPELINE_LABEL];
    if (!name) continue;
    if (info.kind === 'Job' && info.group === 'batch') {
      if (info.labels[ROLE_LABEL] === COORDINATOR_ROLE) {
        get(info, name).coordinators.push(info);
        continue;
      }
      const step = info.labels[STEP_LABEL];
      if (!step) continue;
      const p = get(info, name);
      const sj: StepJob = { step, job: info, upstreams: parseDependsOn(info.annotations[DEPENDS_ON_ANNOTATION]) };
      if (p.steps.has(step)) p.duplicateSteps.push(sj);
      else p.steps.set(step, sj);
    } else if (info.kind === 'ConfigMap' && info.group === '' && typeof asRecord(info.obj.data)?.[PLAN_KEY] === 'string') {
      get(info, name).configMaps.push(info);
    }
  }
  return [...pipelines.values()]
    .sort((a, b) => byString(a.namespace, b.namespace) || byString(a.name, b.name))
    .map((p) => {
      const mounted = new Set(p.coordinators.flatMap((c) => configMapsMountedBy(c, set)));
      const planConfigMaps = [...p.configMaps].sort((a, b) => Number(mounted.has(b.name)) - Number(mounted.has(a.name)));
      return { name: p.name, namespace: p.namespace, steps: p.steps, duplicateSteps: p.duplicateSteps, coordinators: p.coordinators, planConfigMaps };
    });
}

/** Names of the ConfigMaps a Job's pods mount as volumes. */
export function configMapsMountedBy(job: ObjectInfo, set: ObjectSet): string[] {
  const pod = set.podTemplateOf(job);
  return asArray(pod?.spec.volumes).flatMap((v) => {
    const name = asString(asRecord(asRecord(v)?.configMap)?.name);
    return name ? [name] : [];
  });
}

/** One line of the coordinator plan. */
export interface PlanLine {
  /** 1-based line number in the `plan` value. */
  readonly line: number;
  readonly step: string;
  readonly job: string;
  readonly upstreams: readonly string[];
  /** Column 4 (docs/coordinator-contract.md): when the node is released; `all-succeeded` when absent. */
  readonly trigger: string;
  /** Column 5: `job` or `gate`; `job` when absent. */
  readonly kind: string;
  /** Column 6: the condition's compact JSON; undefined when absent or `-`. */
  readonly condition?: string;
  /** Column 8: `<group>:<failures tolerated>`; undefined when absent or `-`. */
  readonly budget?: string;
  /** Column 9: `<group>:<at most at once>`; undefined when absent or `-`. */
  readonly cap?: string;
}

/**
 * Parses `<step>\t<job>\t<upstreams or ->` lines, with up to six optional columns after
 * them (docs/coordinator-contract.md: a missing column means its default, so a plan of an
 * older backend still reads); malformed lines are returned as errors.
 */
export function parsePlan(text: string): { lines: PlanLine[]; malformed: { line: number; text: string }[] } {
  const lines: PlanLine[] = [];
  const malformed: { line: number; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const fields = raw.split('\t');
    if (fields.length < 3 || fields.length > 9 || !fields[0] || !fields[1] || !fields[2]) {
      malformed.push({ line: i + 1, text: raw });
      return;
    }
    const optional = (column: number) => (fields[column - 1] && fields[column - 1] !== '-' ? fields[column - 1] : undefined);
    lines.push({
      line: i + 1,
      step: fields[0],
      job: fields[1],
      upstreams: fields[2] === '-' ? [] : parseDependsOn(fields[2]),
      trigger: optional(4) ?? 'all-succeeded',
      kind: optional(5) ?? 'job',
      condition: optional(6),
      budget: optional(8),
      cap: optional(9),
    });
  });
  return { lines, malformed };
}

/** Upstream map of a pipeline's step Jobs, as written in their annotations. */
export function upstreamGraph(p: PipelineObjects): Map<string, readonly string[]> {
  return new Map([...p.steps.values()].map((s) => [s.step, s.upstreams]));
}
