/**
 * The state of a pipeline run, read from its Jobs the way the coordinator reads them
 * (docs/ordering.md, docs/coordinator-contract.md): Job conditions, `spec.suspend`,
 * `status.startTime`, the `skipped`, `verdict` and `failure-reason` annotations, the
 * coordinator's ledger and the plan's failure budgets (column 8).
 * Pure: it takes the parsed output of one `kubectl get jobs -o json` and a clock.
 */
import {
  COORDINATOR_ROLE, COORDINATOR_SCRIPT_VOLUME, DEPENDS_ON_ANNOTATION, FAILURE_REASON_ANNOTATION, PIPELINE_LABEL, ROLE_LABEL,
  SKIPPED_ANNOTATION, STEP_LABEL,
} from '../conventions';
import { criticalPath, topologicalOrder } from '../verify/graph';
import { parseDependsOn } from '../verify/pipeline';
import { parsePlan, PlanEntry } from '../verify/simulator/load';
import { LedgerView, readLedger } from '../verify/simulator/ledger';
import { asArray, asRecord, asString, byString, stringMap } from '../verify/types';

/** Written by a gate's pod on its own Job: `approved` or `rejected: <reason>` (docs/coordinator-contract.md). */
export const VERDICT_ANNOTATION = 'mlops.cdk8s.io/verdict';

export type StepState = 'waiting' | 'running' | 'complete' | 'failed' | 'skipped' | 'rejected' | 'missing';
export type RunOutcome = 'running' | 'succeeded' | 'failed' | 'rejected';

export interface StepStatus {
  readonly step: string;
  /** The Job's name; undefined when no Job of the step exists. */
  readonly job?: string;
  readonly state: StepState;
  /** Why it failed, was skipped or rejected; for `missing`, what that means. */
  readonly reason?: string;
  /** Upstream steps, sorted. */
  readonly upstreams: readonly string[];
  /** For `waiting`: the upstream steps not complete yet, with their states. */
  readonly waitingOn: readonly { readonly step: string; readonly state: StepState }[];
  /** When its pods started (`status.startTime`). */
  readonly startedAt?: Date;
  /** When it finished (completion or failure time). */
  readonly finishedAt?: Date;
  /** Pods running now. */
  readonly activePods: number;
}

export interface RunStatus {
  readonly pipeline: string;
  /** Steps in dependency order (by level, then name). */
  readonly steps: readonly StepStatus[];
  readonly outcome: RunOutcome;
  /** One sentence on why the run failed or was rejected. */
  readonly outcomeReason?: string;
  /** When the run started: its coordinator's creation (as the coordinator counts its deadline). */
  readonly startedAt?: Date;
  /** When it ended; undefined while it runs. */
  readonly endedAt?: Date;
  readonly criticalPath: readonly string[];
  /** Run time of the critical path's steps so far (a running step counts up to now), in ms. */
  readonly criticalPathMs: number;
  /** The coordinator Job, when there is one. */
  readonly coordinator?: string;
}

interface Job {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly created?: Date;
  readonly suspend: boolean;
  readonly startTime?: Date;
  readonly completionTime?: Date;
  readonly active: number;
  /** The first `True` condition of the type, if any. */
  condition(type: 'Complete' | 'Failed'): { reason: string; message: string; at?: Date } | undefined;
}

/**
 * The run of `pipeline` from a parsed Job list (a `List` or any object with `items`). The
 * coordinator's ledger records steps by their position in the plan, so it is read only when
 * `plan` (the coordinator ConfigMap's `plan` key) is given; without it a step whose Job its
 * TTL deleted shows as missing.
 */
export function runStatus(list: unknown, pipeline: string, now: Date, plan?: string): RunStatus {
  const jobs = asArray(asRecord(list)?.items).map(readJob).filter((j): j is Job => j !== undefined && j.labels[PIPELINE_LABEL] === pipeline);
  const coordinator = newest(jobs.filter((j) => j.labels[ROLE_LABEL] === COORDINATOR_ROLE));
  const entries = plan === undefined ? undefined : parsePlan(plan);
  const ledger = (entries && readLedger(coordinator?.annotations, entries)) ?? { states: {}, notes: {} };
  // After a changed re-apply an old and a new Job of one step can both exist: the newest is the run's.
  const byStep = new Map<string, Job>();
  for (const job of jobs) {
    const step = job.labels[STEP_LABEL];
    if (!step || job.labels[ROLE_LABEL] === COORDINATOR_ROLE) continue;
    const seen = byStep.get(step);
    if (!seen || newest([seen, job]) === job) byStep.set(step, job);
  }
  const upstreamsOf = new Map<string, string[]>();
  // The plan is the run's own list of steps: it names steps whose Jobs are gone, and gates.
  if (entries) for (const e of entries) upstreamsOf.set(e.step, [...e.upstream].sort(byString));
  for (const [step, job] of byStep) if (!upstreamsOf.has(step)) upstreamsOf.set(step, parseDependsOn(job.annotations[DEPENDS_ON_ANNOTATION]).sort(byString));
  // Upstreams named but without a Job are steps too: not applied yet, or deleted by TTL.
  for (const ups of [...upstreamsOf.values()]) for (const u of ups) if (!upstreamsOf.has(u)) upstreamsOf.set(u, []);

  const own = new Map<string, Omit<StepStatus, 'waitingOn'>>();
  for (const [step, upstreams] of upstreamsOf) own.set(step, ownState(step, byStep.get(step), upstreams, ledger));
  const budgets = budgetsOf(entries ?? [], own);
  for (const [step, s] of own) {
    const b = budgets.get(step);
    if (s.state === 'failed' && b) own.set(step, { ...s, reason: `${s.reason}; ${b.within ? 'within' : 'over'} the failure budget of ${b.group} (${b.failed.length} failed, ${b.n} allowed)` });
  }
  const order = orderOf(upstreamsOf);
  const steps: StepStatus[] = order.map((step) => {
    const s = own.get(step)!;
    const waitingOn = s.state === 'waiting' ? s.upstreams.filter((u) => own.get(u)!.state !== 'complete').map((u) => ({ step: u, state: own.get(u)!.state })) : [];
    return { ...s, waitingOn };
  });

  const path = criticalPath(upstreamsOf);
  const criticalPathMs = path.reduce((sum, step) => {
    const s = own.get(step)!;
    return s.startedAt ? sum + ((s.finishedAt ?? now).getTime() - s.startedAt.getTime()) : sum;
  }, 0);
  const { outcome, reason, endedAt } = outcomeOf(coordinator, steps, budgets);
  const startedAt = coordinator?.created ?? earliest(steps.map((s) => s.startedAt));
  return {
    pipeline,
    steps,
    outcome,
    outcomeReason: reason,
    startedAt,
    endedAt,
    criticalPath: path,
    criticalPathMs,
    coordinator: coordinator?.name,
  };
}

/** What the coordinator's ledger recorded, by step: final states and the reasons it kept. */
type Recorded = Pick<LedgerView, 'states' | 'notes'>;

/** A group's failure budget (plan column 8) as its members' failures use it. */
interface Budget {
  readonly group: string;
  /** Failures the group tolerates without failing the run. */
  readonly n: number;
  readonly members: readonly string[];
  readonly failed: readonly string[];
  /** Whether the failures so far are within it: the coordinator does not count them. */
  readonly within: boolean;
}

/** The budget of every step in a budgeted group (a sweep's trials), by step. */
function budgetsOf(entries: readonly PlanEntry[], own: ReadonlyMap<string, Pick<StepStatus, 'state'>>): Map<string, Budget> {
  const groups = new Map<string, { n: number; members: string[] }>();
  for (const e of entries) {
    if (!e.budget) continue;
    const g = groups.get(e.budget.group) ?? { n: e.budget.n, members: [] };
    g.members.push(e.step);
    groups.set(e.budget.group, g);
  }
  const out = new Map<string, Budget>();
  for (const [group, { n, members }] of groups) {
    const failed = members.filter((m) => own.get(m)?.state === 'failed');
    const budget = { group, n, members, failed, within: failed.length <= n };
    for (const m of members) out.set(m, budget);
  }
  return out;
}

function ownState(step: string, job: Job | undefined, upstreams: string[], ledger: Recorded): Omit<StepStatus, 'waitingOn'> {
  const base = { step, job: job?.name, upstreams, startedAt: job?.startTime, activePods: job?.active ?? 0 };
  const recorded = ledger.states[step];
  if (!job) {
    if (recorded === 'complete') return { ...base, state: 'complete', reason: 'its Job is gone (TTL); the coordinator recorded it complete' };
    if (recorded) return { ...base, state: recorded, reason: ledger.notes[step] ?? `its Job is gone (TTL); the coordinator recorded it ${recorded}` };
    return { ...base, state: 'missing', reason: 'no Job of this step exists: not applied yet, or deleted before it completed' };
  }
  const complete = job.condition('Complete');
  if (complete) {
    const verdict = job.annotations[VERDICT_ANNOTATION];
    const finishedAt = job.completionTime ?? complete.at;
    if (verdict?.startsWith('rejected')) {
      return { ...base, state: 'rejected', reason: `gate ${verdict.replace(/^rejected:?\s*/, 'rejected: ').replace(/: $/, '')}`, finishedAt };
    }
    return { ...base, state: 'complete', finishedAt };
  }
  const failed = job.condition('Failed');
  if (failed) {
    // A library container that fails its step on purpose (the values reporter) says why on
    // the Job, as the coordinator reads it; else the Job controller's condition says.
    const why = job.annotations[FAILURE_REASON_ANNOTATION] || [failed.reason, failed.message].filter((t) => t).join(': ') || 'Failed';
    return { ...base, state: 'failed', reason: why, finishedAt: failed.at };
  }
  if (recorded === 'complete') return { ...base, state: 'complete' };
  const skipped = job.annotations[SKIPPED_ANNOTATION];
  // Decided by the coordinator without the Job running (e.g. a value its producer did not
  // write fails the reader): the ledger has the state, the Job's skipped annotation the reason.
  if (recorded) return { ...base, state: recorded, reason: skipped || ledger.notes[step] || `the coordinator recorded it ${recorded}` };
  if (skipped !== undefined) return { ...base, state: 'skipped', reason: skipped || 'skipped' };
  return { ...base, state: job.suspend ? 'waiting' : 'running' };
}

/**
 * The run's outcome. Once the coordinator has finished, its exit code decides (0 succeeded,
 * 3 failed, 4 rejected: docs/coordinator-contract.md); its Job's `Failed` condition message
 * names the exit code when the podFailurePolicy fails the Job. Before, or without a
 * coordinator, the steps decide once they are all final.
 */
function outcomeOf(coordinator: Job | undefined, steps: readonly StepStatus[], budgets: ReadonlyMap<string, Budget>): { outcome: RunOutcome; reason?: string; endedAt?: Date } {
  const complete = coordinator?.condition('Complete');
  if (complete) return { outcome: 'succeeded', endedAt: coordinator!.completionTime ?? complete.at };
  const failed = coordinator?.condition('Failed');
  const stepReason = failureReason(steps, budgets);
  if (failed) {
    const code = /exit code (\d+)/.exec(failed.message)?.[1];
    if (code === '4') return { outcome: 'rejected', reason: rejectionReason(steps) ?? 'a gate rejected its model', endedAt: failed.at };
    const own = `the coordinator failed: ${[failed.reason, failed.message].filter((t) => t).join(': ')}`;
    return { outcome: 'failed', reason: code === '3' ? (stepReason ?? own) : own, endedAt: failed.at };
  }
  const final = steps.every((s) => ['complete', 'failed', 'skipped', 'rejected'].includes(s.state));
  // A running coordinator may still be recording the last results: only a run without one ends here.
  if (!final || coordinator) return { outcome: 'running' };
  const endedAt = latest(steps.map((s) => s.finishedAt));
  if (stepReason) return { outcome: 'failed', reason: stepReason, endedAt };
  const rejected = rejectionReason(steps);
  if (rejected) return { outcome: 'rejected', reason: rejected, endedAt };
  return { outcome: 'succeeded', endedAt };
}

/**
 * The failures that fail the run, as the coordinator counts them: a group's failures within
 * its budget do not count; a group over its budget reads as one sentence naming its failures.
 */
function failureReason(steps: readonly StepStatus[], budgets: ReadonlyMap<string, Budget>): string | undefined {
  const reasons: string[] = [];
  const told = new Set<Budget>();
  for (const s of steps.filter((x) => x.state === 'failed')) {
    const b = budgets.get(s.step);
    if (!b) reasons.push(`step ${s.step} failed (${s.reason})`);
    else if (!b.within && !told.has(b)) {
      told.add(b);
      reasons.push(`${b.failed.length} of ${b.members.length} steps of ${b.group} failed, over its failure budget of ${b.n}: ${b.failed.join(', ')}`);
    }
  }
  if (reasons.length) return reasons.join('; ');
  const deadline = steps.find((s) => s.state === 'skipped' && /deadline/.test(s.reason ?? ''));
  return deadline ? `step ${deadline.step} was skipped: ${deadline.reason}` : undefined;
}

function rejectionReason(steps: readonly StepStatus[]): string | undefined {
  const rejected = steps.filter((s) => s.state === 'rejected');
  return rejected.length ? rejected.map((s) => `step ${s.step}: ${s.reason}`).join('; ') : undefined;
}

/** Level, then name; by name alone when hand-edited annotations form a cycle (verify reports it). */
/**
 * The ConfigMap holding the plan of the pipeline's newest coordinator (its `script` volume),
 * which `runStatus` needs to read the ledger; undefined without a coordinator.
 */
export function planConfigMapOf(list: unknown, pipeline: string): string | undefined {
  const coordinators = asArray(asRecord(list)?.items).filter((o) => {
    const labels = stringMap(asRecord(asRecord(o)?.metadata)?.labels);
    return labels[PIPELINE_LABEL] === pipeline && labels[ROLE_LABEL] === COORDINATOR_ROLE;
  });
  const job = coordinators.reduce<unknown>((best, o) => (best === undefined || created(o) > created(best) ? o : best), undefined);
  const volumes = asArray(asRecord(asRecord(asRecord(asRecord(job)?.spec)?.template)?.spec)?.volumes);
  const script = volumes.map(asRecord).find((v) => v?.name === COORDINATOR_SCRIPT_VOLUME);
  return asString(asRecord(script?.configMap)?.name);
}

function created(o: unknown): number {
  return time(asRecord(asRecord(o)?.metadata)?.creationTimestamp)?.getTime() ?? 0;
}

function orderOf(upstreams: ReadonlyMap<string, readonly string[]>): string[] {
  try {
    return topologicalOrder(upstreams);
  } catch {
    return [...upstreams.keys()].sort(byString);
  }
}

function readJob(value: unknown): Job | undefined {
  const obj = asRecord(value);
  const meta = asRecord(obj?.metadata);
  const name = asString(meta?.name);
  if (!obj || !meta || !name) return undefined;
  const spec = asRecord(obj.spec) ?? {};
  const status = asRecord(obj.status) ?? {};
  const conditions = asArray(status.conditions).map(asRecord).filter((c): c is Record<string, unknown> => c !== undefined);
  return {
    name,
    labels: stringMap(meta.labels),
    annotations: stringMap(meta.annotations),
    created: time(meta.creationTimestamp),
    suspend: spec.suspend === true,
    startTime: time(status.startTime),
    completionTime: time(status.completionTime),
    active: typeof status.active === 'number' ? status.active : 0,
    condition: (type) => {
      const c = conditions.find((x) => x.type === type && x.status === 'True');
      return c && { reason: asString(c.reason) ?? '', message: asString(c.message) ?? '', at: time(c.lastTransitionTime) };
    },
  };
}

function time(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function newest(jobs: readonly Job[]): Job | undefined {
  return jobs.reduce<Job | undefined>((best, j) => (!best || (j.created?.getTime() ?? 0) > (best.created?.getTime() ?? 0) ? j : best), undefined);
}

function earliest(dates: readonly (Date | undefined)[]): Date | undefined {
  const ms = dates.flatMap((d) => (d ? [d.getTime()] : []));
  return ms.length ? new Date(Math.min(...ms)) : undefined;
}

function latest(dates: readonly (Date | undefined)[]): Date | undefined {
  const ms = dates.flatMap((d) => (d ? [d.getTime()] : []));
  return ms.length ? new Date(Math.max(...ms)) : undefined;
}
