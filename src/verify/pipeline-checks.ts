/**
 * Checks of the run-time ordering contract (docs/ordering.md). Each one stands for a way a
 * pipeline would hang or run out of order on the cluster: a depends-on naming no step, a
 * cycle, a step Job not suspended, a plan the coordinator reads that disagrees with the Jobs,
 * or a coordinator whose RBAC cannot release the steps.
 */
import { DEPENDS_ON_ANNOTATION, PIPELINE_LABEL, PLAN_KEY, STEP_LABEL } from './conventions';
import { findCycles, showCycle } from './graph';
import { ObjectSet } from './index-set';
import { containersOf, ObjectInfo } from './objects';
import { collectPipelines, parsePlan, PipelineObjects, PlanLine, StepJob, upstreamGraph } from './pipeline';
import { asArray, asRecord, asString, byString, pointer, Problem, Severity, showValue } from './types';

const DEPENDS_ON_PATH = pointer('metadata', 'annotations', DEPENDS_ON_ANNOTATION);
const PLAN_PATH = pointer('data', PLAN_KEY);

function problem(info: ObjectInfo, path: string, rule: string, what: string, fix?: string, severity: Severity = 'error'): Problem {
  return { object: info.label, path, rule, severity, message: `${info.label}: ${what}${fix ? `; ${fix}` : ''}`, fix };
}

export function checkPipelines(set: ObjectSet): Problem[] {
  return collectPipelines(set).flatMap((p) => [
    ...checkSteps(p),
    ...checkCycles(p),
    ...checkCoordinator(p, set),
  ]);
}

function sortedSteps(p: PipelineObjects): StepJob[] {
  return [...p.steps.values()].sort((a, b) => byString(a.step, b.step));
}

function checkSteps(p: PipelineObjects): Problem[] {
  const out: Problem[] = [];
  const names = [...p.steps.keys()].sort(byString);
  for (const dup of p.duplicateSteps) {
    const first = p.steps.get(dup.step)!;
    out.push(problem(dup.job, pointer('metadata', 'labels', STEP_LABEL), 'pipeline/duplicate-step',
      `step ${showValue(dup.step)} of pipeline ${showValue(p.name)} already has Job ${first.job.name}`,
      'each step has exactly one Job; remove the stale Job (an older hash?) or give the step another id'));
  }
  for (const s of sortedSteps(p)) {
    for (const u of s.upstreams) {
      if (p.steps.has(u)) continue;
      out.push(problem(s.job, DEPENDS_ON_PATH, 'pipeline/unknown-step',
        `depends-on names step ${showValue(u)}, which is not a step of pipeline ${showValue(p.name)} (steps: ${names.join(', ')})`,
        `fix the annotation at ${DEPENDS_ON_PATH} or add a Job labelled ${STEP_LABEL}: ${u}`));
    }
    const suspend = asRecord(s.job.obj.spec)?.suspend;
    if (suspend !== true) {
      const hasUpstream = s.upstreams.length > 0;
      out.push(problem(s.job, '/spec/suspend', 'pipeline/not-suspended',
        hasUpstream
          ? `step ${showValue(s.step)} is not created suspended (spec.suspend is ${showValue(suspend)}), so it starts before its upstream steps ${s.upstreams.join(', ')} complete`
          : `step ${showValue(s.step)} is not created suspended (spec.suspend is ${showValue(suspend)}), so it starts without the coordinator and bypasses MLOPS_MAX_PARALLEL`,
        'set spec.suspend: true; the coordinator releases it', hasUpstream ? 'error' : 'warning'));
    }
  }
  return out;
}

function checkCycles(p: PipelineObjects): Problem[] {
  return findCycles(upstreamGraph(p)).map((cycle) => {
    const job = p.steps.get(cycle[0])!.job;
    return problem(job, DEPENDS_ON_PATH, 'pipeline/cycle',
      `dependency cycle in pipeline ${showValue(p.name)}: ${showCycle(cycle)} (read "a => b" as "b depends on a"), so none of these steps can ever start`,
      'remove one of these dependencies');
  });
}

function checkCoordinator(p: PipelineObjects, set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  const anchor = sortedSteps(p)[0]?.job;
  if (p.coordinators.length === 0) {
    if (anchor) {
      out.push(problem(anchor, pointer('metadata', 'labels', PIPELINE_LABEL), 'pipeline/no-coordinator',
        `pipeline ${showValue(p.name)} has step Jobs but no coordinator Job (a Job labelled mlops.cdk8s.io/role: coordinator), so its suspended steps never start`,
        'apply the coordinator Job synthesized with the pipeline'));
    }
    return out;
  }
  for (const extra of p.coordinators.slice(1)) {
    out.push(problem(extra, '/metadata/labels', 'pipeline/coordinator',
      `pipeline ${showValue(p.name)} has more than one coordinator Job (${p.coordinators.map((c) => c.name).join(', ')}); two coordinators would release and skip steps independently`,
      'keep only the coordinator of the current synth'));
  }
  const coordinator = p.coordinators[0];
  out.push(...checkCoordinatorEnv(p, coordinator, set));
  out.push(...checkPlan(p, coordinator));
  out.push(...checkCoordinatorRbac(p, coordinator, set));
  return out;
}

function checkCoordinatorEnv(p: PipelineObjects, coordinator: ObjectInfo, set: ObjectSet): Problem[] {
  const out: Problem[] = [];
  const pod = set.podTemplateOf(coordinator);
  if (!pod) return out;
  const expected: Record<string, string> = { MLOPS_PIPELINE: p.name, MLOPS_SELF: coordinator.name };
  for (const c of containersOf(pod)) {
    asArray(c.container.env).forEach((e, i) => {
      const env = asRecord(e);
      const name = asString(env?.name);
      const value = asString(env?.value);
      if (!name || value === undefined || !(name in expected) || expected[name] === value) return;
      out.push(problem(coordinator, `${c.path}/env/${i}/value`, 'pipeline/coordinator-env',
        `${name} is ${showValue(value)} but should be ${showValue(expected[name])}, so the coordinator would watch the wrong Jobs`,
        `set it to ${showValue(expected[name])}`));
    });
  }
  return out;
}

/** The plan ConfigMap is what the coordinator acts on; the Jobs are what runs. They must agree. */
function checkPlan(p: PipelineObjects, coordinator: ObjectInfo): Problem[] {
  const out: Problem[] = [];
  const cm = p.planConfigMaps[0];
  if (!cm) {
    out.push(problem(coordinator, '/spec/template/spec/volumes', 'pipeline/no-plan',
      `no ConfigMap of pipeline ${showValue(p.name)} holds a "${PLAN_KEY}" key, so the coordinator has no plan to follow`,
      'apply the coordinator ConfigMap synthesized with the pipeline'));
    return out;
  }
  const text = asString(asRecord(cm.obj.data)?.[PLAN_KEY]) ?? '';
  const { lines, malformed } = parsePlan(text);
  for (const m of malformed) {
    out.push(problem(cm, PLAN_PATH, 'pipeline/plan',
      `plan line ${m.line} ${showValue(m.text)} is not "<step>\\t<job>\\t<upstreams or ->"`, 'separate the three fields with single tabs'));
  }
  const seenAt = new Map<string, PlanLine>();
  for (const l of lines) {
    const prev = seenAt.get(l.step);
    if (prev) {
      out.push(problem(cm, PLAN_PATH, 'pipeline/plan', `plan lists step ${showValue(l.step)} twice (lines ${prev.line} and ${l.line})`, 'keep one line per step'));
      continue;
    }
    seenAt.set(l.step, l);
    const sj = p.steps.get(l.step);
    if (!sj) {
      out.push(problem(cm, PLAN_PATH, 'pipeline/plan',
        `plan line ${l.line} names step ${showValue(l.step)}, but no Job of pipeline ${showValue(p.name)} has label ${STEP_LABEL}: ${l.step}`,
        're-apply the Jobs and the ConfigMap from the same synth'));
      continue;
    }
    if (sj.job.name !== l.job) {
      out.push(problem(cm, PLAN_PATH, 'pipeline/plan',
        `plan line ${l.line} says step ${showValue(l.step)} runs Job ${showValue(l.job)}, but the Job of that step is ${showValue(sj.job.name)}`,
        're-apply the Jobs and the ConfigMap from the same synth'));
    }
    const planUps = [...l.upstreams].sort(byString).join(',');
    const jobUps = [...sj.upstreams].sort(byString).join(',');
    if (planUps !== jobUps) {
      out.push(problem(cm, PLAN_PATH, 'pipeline/plan',
        `plan line ${l.line} says step ${showValue(l.step)} waits for ${planUps || 'nothing'}, but Job ${sj.job.name} annotates depends-on ${jobUps || 'nothing'}`,
        're-apply the Jobs and the ConfigMap from the same synth'));
    }
    for (const u of l.upstreams) {
      const upLine = lines.find((x) => x.step === u);
      if (upLine && upLine.line > l.line) {
        out.push(problem(cm, PLAN_PATH, 'pipeline/plan',
          `plan line ${l.line} lists step ${showValue(l.step)} before its upstream ${showValue(u)} (line ${upLine.line}); the plan must be in topological order`));
      }
    }
  }
  for (const s of sortedSteps(p)) {
    if (seenAt.has(s.step)) continue;
    out.push(problem(s.job, pointer('metadata', 'labels', STEP_LABEL), 'pipeline/plan',
      `step ${showValue(s.step)} is missing from the plan of ConfigMap ${cm.name}, so the coordinator never releases it`,
      're-apply the Jobs and the ConfigMap from the same synth'));
  }
  return out;
}

interface Rule {
  readonly verbs: readonly string[];
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly resourceNames: readonly string[];
}

function strings(v: unknown): string[] {
  return asArray(v).filter((x): x is string => typeof x === 'string');
}

/** The coordinator lists the pipeline's Jobs, and gets and patches each step Job and itself (docs/ordering.md). */
function checkCoordinatorRbac(p: PipelineObjects, coordinator: ObjectInfo, set: ObjectSet): Problem[] {
  const pod = set.podTemplateOf(coordinator);
  if (!pod) return [];
  const sa = asString(pod.spec.serviceAccountName) ?? asString(pod.spec.serviceAccount) ?? 'default';
  const saPath = `${pod.specPath}/serviceAccountName`;
  const rules: Rule[] = [];
  let bindings = 0;
  for (const b of [...set.byKind('RoleBinding'), ...set.byKind('ClusterRoleBinding')]) {
    if (b.kind === 'RoleBinding' && b.namespace !== coordinator.namespace) continue;
    const bound = asArray(b.obj.subjects).some((s) => {
      const r = asRecord(s);
      return asString(r?.kind) === 'ServiceAccount' && asString(r?.name) === sa && (asString(r?.namespace) ?? b.namespace) === coordinator.namespace;
    });
    if (!bound) continue;
    bindings++;
    const ref = asRecord(b.obj.roleRef);
    const role = asString(ref?.kind) === 'Role'
      ? set.find('Role', b.namespace, asString(ref?.name) ?? '')
      : set.find('ClusterRole', '', asString(ref?.name) ?? '');
    for (const r of asArray(role?.obj.rules)) {
      const rec = asRecord(r);
      rules.push({ verbs: strings(rec?.verbs), apiGroups: strings(rec?.apiGroups), resources: strings(rec?.resources), resourceNames: strings(rec?.resourceNames) });
    }
  }
  if (bindings === 0) {
    return [problem(coordinator, saPath, 'pipeline/coordinator-rbac',
      `no RoleBinding in these manifests binds the coordinator's ServiceAccount ${showValue(sa)}, so unless it is bound elsewhere the coordinator cannot list or patch Jobs`,
      'apply the Role and RoleBinding synthesized with the pipeline', 'warning')];
  }
  const allows = (verb: string, name?: string) => rules.some((r) =>
    (r.verbs.includes(verb) || r.verbs.includes('*'))
    && (r.apiGroups.includes('batch') || r.apiGroups.includes('*'))
    && (r.resources.includes('jobs') || r.resources.includes('*'))
    && (r.resourceNames.length === 0 || (name !== undefined && r.resourceNames.includes(name))));
  const out: Problem[] = [];
  if (!allows('list')) {
    out.push(problem(coordinator, saPath, 'pipeline/coordinator-rbac',
      `the coordinator's ServiceAccount ${showValue(sa)} may not list batch/jobs in namespace ${coordinator.namespace}, so it cannot see its steps`,
      'grant "list" on "jobs" in apiGroup "batch" without resourceNames (list cannot be restricted by name)'));
  }
  // `kubectl patch job NAME` GETs the Job before it PATCHes it, so both verbs are needed.
  for (const verb of ['get', 'patch']) {
    const missing = [...sortedSteps(p).map((s) => s.job.name), coordinator.name].filter((n) => !allows(verb, n));
    if (missing.length) {
      out.push(problem(coordinator, saPath, 'pipeline/coordinator-rbac',
        `the coordinator's ServiceAccount ${showValue(sa)} may not ${verb} Job${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, so it cannot release or mark ${missing.length > 1 ? 'them' : 'it'}${verb === 'get' ? ' (kubectl patch reads the Job before it patches it)' : ''}`,
        `add the names to the resourceNames of the rule on batch/jobs that grants "get" and "patch"`));
    }
  }
  return out;
}
