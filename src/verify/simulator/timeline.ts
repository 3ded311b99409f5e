import { SKIPPED_ANNOTATION as SKIPPED } from '../../conventions';
import { Cluster, Pod } from './cluster';
import { readLedger } from './ledger';
import type { KubectlClient } from './kubectl-client';
import { CoordinatorSpec, PlanEntry } from './load';
import { CallRecord, ContainerRun, CoordinatorOutcome, CoordinatorRun, ManifestObject, PollRecord, SimulationResult, StepTimeline } from './types';

export interface ResultInput {
  /** Every coordinator, the first one (the objects passed to `simulate`) first. */
  readonly coordinators: ReadonlyArray<{ readonly spec: CoordinatorSpec; readonly appliedAt: number }>;
  readonly cluster?: Cluster;
  readonly epoch: number;
  readonly errors: string[];
  readonly warnings: string[];
  readonly calls: CallRecord[];
  readonly runs: CoordinatorRun[];
  readonly cap: number;
  readonly wallMs: number;
  readonly client?: KubectlClient;
  readonly containers: ContainerRun[];
  readonly claims: Record<string, Record<string, string>>;
  readonly coordinatorCondition: (obj: ManifestObject) => Record<string, string> | undefined;
}

/**
 * Turn what the cluster recorded into per-step timelines, and check the properties of
 * docs/ordering.md against them: no step starts before every upstream completed, none runs
 * again after it completed, the cap holds, RBAC is enough, the exit code tells the truth.
 */
export function buildResult(input: ResultInput): SimulationResult {
  const { cluster, epoch, calls } = input;
  const c = input.coordinators[0]?.spec;
  const others = input.coordinators.slice(1).map((k) => k.spec);
  const runs = input.runs.filter((r) => r.job === c?.job.metadata.name);
  const errors = [...input.errors];
  const rel = (t: number | undefined) => (t === undefined ? undefined : t - epoch);
  const skipped: Record<string, string> = {};
  // One timeline per Job name: a Job shared by two versions of the pipeline is one object.
  const jobs: Record<string, StepTimeline> = {};
  const timelineOf = (s: PlanEntry, ns: string): StepTimeline => (jobs[s.job] ??= timeline(s, ns));
  const stepsOf = (k: CoordinatorSpec): Record<string, StepTimeline> => Object.fromEntries(k.plan.map((s) => [s.step, timelineOf(s, k.namespace)]));

  function timeline(s: PlanEntry, ns: string): StepTimeline {
    const h = cluster?.history.get(s.job);
    const live = cluster?.job(ns, s.job);
    const note = live?.obj.metadata.annotations?.[SKIPPED];
    const pods = (h?.pods ?? []).map(podRecord(epoch));
    const outcome: StepTimeline['outcome'] =
      h?.completedAt !== undefined ? 'complete'
      : h?.failedAt !== undefined ? 'failed'
      : note !== undefined ? 'skipped'
      : !live ? 'missing'
      : live.obj.spec.suspend === true ? 'waiting'
      : 'running';
    return {
      step: s.step,
      job: s.job,
      upstream: s.upstream,
      releases: (h?.releases ?? []).map((t) => t - epoch),
      suspensions: (h?.suspensions ?? []).map((t) => t - epoch),
      releasedAt: rel(h?.releases[0]),
      startedAt: pods.find((p) => p.startedAt !== undefined)?.startedAt,
      finishedAt: rel(h?.completedAt ?? h?.failedAt),
      outcome,
      reason: h?.reason,
      skipped: note,
      attempts: pods.filter((p) => p.end === 'exit').length,
      pods,
      deletedAt: rel(h?.deletedAt),
      instances: h?.instances ?? 0,
      podAnnotations: h?.podAnnotations,
      annotations: live && Object.fromEntries(Object.entries<string>(live.obj.metadata.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration')),
      podEnv: h?.podEnv,
    };
  }

  const rules = new Map(input.coordinators.flatMap((k) => k.spec.plan.map((p) => [p.job, p.rule] as const)));
  const steps: Record<string, StepTimeline> = c ? stepsOf(c) : {};
  for (const s of Object.values(steps)) if (s.skipped !== undefined) skipped[s.step] = s.skipped;
  const otherSteps = others.map(stepsOf);

  // Ordering: a pod may start only once every upstream Job has completed, and never again after its own Job completed.
  // Each Job is checked once, against the plan of the first coordinator that names it.
  const checked = new Set<string>();
  for (const [i, plan] of [steps, ...otherSteps].entries()) {
    const where = (s: StepTimeline) => (i === 0 ? '' : ` (Job ${s.job} of coordinator ${others[i - 1].job.metadata.name})`);
    for (const s of Object.values(plan)) {
      if (checked.has(s.job)) continue;
      checked.add(s.job);
      for (const pod of s.pods) {
        if (pod.startedAt === undefined) continue;
        // Only `all-succeeded` waits for every upstream to complete; the other trigger rules
        // of docs/coordinator-contract.md start after failures too.
        for (const u of rules.get(s.job) === 'all-succeeded' ? s.upstream : []) {
          const done = plan[u]?.outcome === 'complete' ? plan[u].finishedAt : undefined;
          if (done === undefined || done > pod.startedAt) {
            errors.push(`step ${s.step}${where(s)} started at t=${pod.startedAt}s before its upstream ${u} completed${done === undefined ? ' (it never did)' : ` (at t=${done}s)`}`);
          }
        }
        // A library pod runs in no simulated time: one that started and ended at the completion is the one that completed the Job.
        if (s.outcome === 'complete' && s.finishedAt !== undefined && pod.startedAt >= s.finishedAt && !(pod.endedAt !== undefined && pod.endedAt <= s.finishedAt)) {
          errors.push(`step ${s.step}${where(s)} ran again at t=${pod.startedAt}s after it had completed at t=${s.finishedAt}s`);
        }
      }
    }
  }

  const { max: maxConcurrent, at: maxAt } = concurrency(Object.values(steps));
  if (input.cap > 0 && maxConcurrent > input.cap) {
    errors.push(`${maxConcurrent} steps ran at once at t=${maxAt}s although MLOPS_MAX_PARALLEL is ${input.cap}`);
  }
  // Each group's own cap (plan column 9), judged from the pods, independently of the script.
  const maxConcurrentByGroup: Record<string, number> = {};
  for (const [group, members] of groupsOf(c?.plan ?? [], (p) => p.cap ?? p.budget)) {
    const { max, at } = concurrency(members.map((m) => steps[m.step]));
    maxConcurrentByGroup[group] = max;
    const cap = members[0].cap?.n;
    if (cap !== undefined && max > cap) errors.push(`${max} members of group ${group} ran at once at t=${at}s although its cap is ${cap}`);
  }
  // Failures within their group's budget (plan column 8) are results: the run may still succeed.
  const tolerated = new Set<string>();
  for (const [, members] of groupsOf(c?.plan ?? [], (p) => p.budget)) {
    const failed = members.filter((m) => steps[m.step]?.outcome === 'failed');
    if (failed.length <= members[0].budget!.n) for (const m of failed) tolerated.add(m.step);
  }
  // The same refusal or crash repeats every poll or restart: report it once, with a count.
  const first = c?.job.metadata.name;
  const denied = group(calls.filter((x) => x.denied || x.unreachable), (x) => `${x.coordinator}\n${x.argv.join(' ')}\n${x.stderr}`);
  for (const [call, n] of denied) {
    const who = call.coordinator === first ? "the coordinator's" : `coordinator ${call.coordinator}'s`;
    const what = call.denied ? 'the API refused' : 'no API server answered';
    errors.push(`${what} ${who} call \`kubectl ${call.argv.join(' ')}\` at t=${call.at}s${again(n)}: ${call.stderr.trim()}`);
  }
  const crashes = group(input.runs.filter((r) => !r.killed && r.exitCode !== undefined && r.exitCode !== 0 && r.exitCode !== 3 && r.exitCode !== 4), (r) => `${r.job}\n${r.exitCode}\n${tail(r.stderr, 4)}`);
  for (const [r, n] of crashes) {
    const of = r.job === first ? '' : ` (${r.job})`;
    errors.push(`coordinator run #${r.run}${of} exited with code ${r.exitCode} at t=${r.endedAt}s${again(n)}; its stderr ends: ${tail(r.stderr, 4) || '(empty)'}`);
  }

  // How each coordinator ended, and whether its exit code tells the truth about its own plan.
  const outcomeOf = (k: CoordinatorSpec | undefined, plan: Record<string, StepTimeline>, appliedAt: number): CoordinatorOutcome => {
    const name = k?.job.metadata.name ?? '';
    const who = k === c ? 'the coordinator' : `the coordinator ${name}`;
    const mine = input.runs.filter((r) => r.job === name);
    const me = k && cluster?.job(k.namespace, name);
    const finalCondition = me ? input.coordinatorCondition(me.obj) : undefined;
    const outcome = !me ? (k ? 'deleted' : 'not started') : !finalCondition ? 'running' : finalCondition.type === 'Complete' ? 'Complete' : `Failed: ${finalCondition.reason}`;
    const last = [...mine].reverse().find((r) => !r.killed);
    const exitCode = last?.exitCode;
    if (k && me && finalCondition?.type === 'Failed' && !(finalCondition.reason === 'PodFailurePolicy' && (exitCode === 3 || exitCode === 4))) {
      errors.push(`${k === c ? 'the coordinator Job' : `the coordinator Job ${name}`} failed (${finalCondition.reason}) after ${mine.length} run(s)`);
    }
    if (k && exitCode === 0) {
      // A skip that is a result (a false condition, a failure handler with nothing to handle)
      // leaves a run successful; one caused by a failure, a rejection or the deadline does not.
      const result = (s: StepTimeline) => s.outcome === 'skipped' && !/^(upstream step '|gate rejected: |run deadline of )/.test(s.skipped ?? '');
      const open = Object.values(plan).filter((s) => s.outcome !== 'complete' && !result(s) && !(plan === steps && tolerated.has(s.step)));
      if (open.length > 0) errors.push(`${who} exited 0 but ${open.map((s) => `${s.step} is ${s.outcome}`).join(', ')}`);
    }
    if (k && exitCode === 3) {
      const all = Object.values(plan);
      if (all.every((s) => s.outcome === 'complete')) errors.push(`${who} exited 3 although every step completed`);
      for (const s of all.filter((x) => x.outcome === 'waiting' || x.outcome === 'running')) {
        errors.push(`${who} exited 3 but left step ${s.step} ${s.outcome} without a skip reason`);
      }
    }
    // A coordinator whose Job was deleted (a CronJob replacing a run) had its pod killed: it owes no exit.
    if (k && cluster && exitCode === undefined && errors.length === 0 && outcome !== 'deleted') errors.push(`${who} never finished`);
    return {
      job: name,
      pipeline: k?.pipeline ?? '',
      appliedAt,
      outcome,
      exitCode,
      runs: mine,
      stdout: mine.map((r) => r.stdout).join(''),
      stderr: mine.map((r) => r.stderr).join(''),
      ledger: me && k ? readLedger(me.obj.metadata.annotations, k.plan) : undefined,
      steps: plan,
    };
  };
  const main = outcomeOf(c, steps, input.coordinators[0]?.appliedAt ?? 0);
  const { outcome, exitCode, stdout, stderr } = main;
  const coordinators: CoordinatorOutcome[] = c ? [main] : [];
  for (const [i, k] of others.entries()) coordinators.push(outcomeOf(k, otherSteps[i], input.coordinators[i + 1].appliedAt));

  const finishes = Object.values(steps).map((s) => s.finishedAt ?? 0);
  const result: SimulationResult = {
    ok: errors.length === 0,
    errors,
    exitCode,
    steps,
    jobs,
    coordinators,
    skipped,
    ledger: main.ledger,
    coordinator: { job: c?.job.metadata.name ?? '', outcome, runs, stdout, stderr },
    calls,
    polls: polls(calls),
    events: cluster?.events ?? [],
    makespan: Math.max(0, ...finishes),
    maxConcurrent,
    maxConcurrentByGroup,
    endedAt: (cluster?.now ?? epoch) - epoch,
    epoch,
    wallMs: input.wallMs,
    client: input.client,
    containers: input.containers,
    claims: input.claims,
    report: () => report(result, input.warnings),
  };
  return result;
}

function podRecord(epoch: number) {
  return (p: Pod) => ({
    name: p.name,
    index: p.index,
    createdAt: p.createdAt - epoch,
    startedAt: p.startedAt === undefined ? undefined : p.startedAt - epoch,
    endedAt: p.endedAt === undefined ? undefined : p.endedAt - epoch,
    exitCode: p.exitCode,
    end: p.end,
  });
}

/** Most steps with a running pod at one instant; a step ending at t and one starting at t do not overlap. */
/** Plan entries by the group of `column` (8 or 9), in plan order. */
function groupsOf(plan: readonly PlanEntry[], column: (p: PlanEntry) => { group: string } | undefined): Map<string, PlanEntry[]> {
  const groups = new Map<string, PlanEntry[]>();
  for (const p of plan) {
    const g = column(p)?.group;
    if (g !== undefined) groups.set(g, [...(groups.get(g) ?? []), p]);
  }
  return groups;
}

function concurrency(steps: StepTimeline[]): { max: number; at?: number } {
  const edges: Array<[number, number]> = [];
  for (const s of steps) {
    for (const [from, to] of merged(s.pods.filter((p) => p.startedAt !== undefined).map((p) => [p.startedAt!, p.endedAt ?? Infinity]))) {
      edges.push([from, 1], [to, -1]);
    }
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  let at: number | undefined;
  for (const [t, d] of edges) {
    now += d;
    if (now > max) [max, at] = [now, t];
  }
  return { max, at };
}

function merged(intervals: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    const prev = out[out.length - 1];
    if (prev && a <= prev[1]) prev[1] = Math.max(prev[1], b);
    else out.push([a, b]);
  }
  return out.filter(([a, b]) => b > a);
}

function polls(calls: CallRecord[]): PollRecord[] {
  type Counts = { -readonly [K in keyof PollRecord]: PollRecord[K] };
  const by = new Map<string, Counts>();
  for (const call of calls) {
    const key = `${call.run}/${call.poll}`;
    let p = by.get(key);
    if (!p) by.set(key, (p = { run: call.run, poll: call.poll, at: call.at, kubectl: 0, list: 0, get: 0, patch: 0, discovery: 0, other: 0 }));
    if (call.tool !== 'kubectl') continue;
    p.kubectl++;
    for (const r of call.requests ?? []) {
      if (r.verb === 'discovery') p.discovery++;
      else if (r.verb === 'list' || r.verb === 'get' || r.verb === 'patch') p[r.verb]++;
      else p.other++;
    }
  }
  return [...by.values()];
}

function group<T>(items: T[], key: (t: T) => string): Array<[T, number]> {
  const by = new Map<string, [T, number]>();
  for (const item of items) {
    const k = key(item);
    const hit = by.get(k);
    if (hit) hit[1]++;
    else by.set(k, [item, 1]);
  }
  return [...by.values()];
}

function again(n: number): string {
  return n > 1 ? ` (and ${n - 1} more time${n > 2 ? 's' : ''})` : '';
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

function report(r: SimulationResult, warnings: string[]): string {
  const out: string[] = [];
  out.push(`coordinator ${r.coordinator.job}: ${r.coordinator.outcome}, exit code ${r.exitCode ?? '-'}, ${r.coordinator.runs.length} run(s); makespan ${r.makespan}s, stopped at t=${r.endedAt}s, max ${r.maxConcurrent} steps at once, ${r.calls.length} tool calls, ${r.wallMs} ms; kubectl ${r.client?.version ?? '(none)'} ${r.client?.path ?? ''}`);
  const several = r.coordinators.length > 1;
  for (const k of r.coordinators.slice(1)) {
    out.push(`coordinator ${k.job} (applied at t=${k.appliedAt}s): ${k.outcome}, exit code ${k.exitCode ?? '-'}, ${k.runs.length} run(s)`);
  }
  for (const e of r.errors) out.push(`ERROR: ${e}`);
  for (const w of warnings) out.push(`warning: ${w}`);
  // With several coordinators, one row per Job: both versions' Jobs of a changed step show.
  const rows = [[several ? 'job' : 'step', 'released', 'started', 'finished', 'outcome', 'attempts', 'note']];
  for (const s of Object.values(several ? r.jobs : r.steps)) {
    rows.push([several ? s.job : s.step, s.releases.join(',') || '-', `${s.startedAt ?? '-'}`, `${s.finishedAt ?? '-'}`, s.outcome, `${s.attempts}`, s.skipped ?? s.reason ?? '']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) out.push(`  ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd());
  out.push('events:');
  for (const e of r.events) out.push(`  t=${e.at}s ${e.job ?? ''} ${e.what}`);
  for (const k of r.containers) {
    out.push(`container ${k.container} of ${k.pod} (t=${k.startedAt}s..${k.endedAt ?? '?'}s, exit ${k.exitCode ?? '-'}${k.killed ? ', killed' : ''}):`);
    for (const line of `${k.stdout}${k.stderr}`.trimEnd().split('\n')) out.push(`    ${line}`);
  }
  out.push('coordinator output:');
  for (const run of several ? r.coordinators.flatMap((k) => k.runs) : r.coordinator.runs) {
    out.push(`  run #${run.run}${several ? ` ${run.job}` : ''} (t=${run.startedAt}s..${run.endedAt ?? '?'}s, exit ${run.exitCode ?? '-'}${run.killed ? ', killed' : ''})`);
    for (const line of `${run.stdout}${run.stderr}`.trimEnd().split('\n')) out.push(`    ${line}`);
  }
  return out.join('\n');
}
