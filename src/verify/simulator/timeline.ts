import { LEDGER_ANNOTATION as LEDGER, SKIPPED_ANNOTATION as SKIPPED } from '../../conventions';
import { Cluster, Pod } from './cluster';
import { CoordinatorSpec } from './load';
import { CallRecord, CoordinatorRun, ManifestObject, PollRecord, SimulationResult, StepTimeline } from './types';

export interface ResultInput {
  readonly coordinator?: CoordinatorSpec;
  readonly cluster?: Cluster;
  readonly epoch: number;
  readonly errors: string[];
  readonly warnings: string[];
  readonly calls: CallRecord[];
  readonly runs: CoordinatorRun[];
  readonly cap: number;
  readonly wallMs: number;
  readonly coordinatorCondition: (obj: ManifestObject) => Record<string, string> | undefined;
}

/**
 * Turn what the cluster recorded into per-step timelines, and check the properties of
 * docs/ordering.md against them: no step starts before every upstream completed, none runs
 * again after it completed, the cap holds, RBAC is enough, the exit code tells the truth.
 */
export function buildResult(input: ResultInput): SimulationResult {
  const { coordinator: c, cluster, epoch, calls, runs } = input;
  const errors = [...input.errors];
  const rel = (t: number | undefined) => (t === undefined ? undefined : t - epoch);
  const steps: Record<string, StepTimeline> = {};
  const skipped: Record<string, string> = {};

  for (const s of c?.plan ?? []) {
    const h = cluster?.history.get(s.job);
    const live = cluster?.job(c!.namespace, s.job);
    const note = live?.obj.metadata.annotations?.[SKIPPED];
    if (note !== undefined) skipped[s.step] = note;
    const pods = (h?.pods ?? []).map(podRecord(epoch));
    const outcome: StepTimeline['outcome'] =
      h?.completedAt !== undefined ? 'complete'
      : h?.failedAt !== undefined ? 'failed'
      : note !== undefined ? 'skipped'
      : !live ? 'missing'
      : live.obj.spec.suspend === true ? 'waiting'
      : 'running';
    steps[s.step] = {
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
    };
  }

  // Ordering: a pod may start only once every upstream Job has completed, and never again after its own Job completed.
  for (const s of Object.values(steps)) {
    for (const pod of s.pods) {
      if (pod.startedAt === undefined) continue;
      for (const u of s.upstream) {
        const done = steps[u]?.outcome === 'complete' ? steps[u].finishedAt : undefined;
        if (done === undefined || done > pod.startedAt) {
          errors.push(`step ${s.step} started at t=${pod.startedAt}s before its upstream ${u} completed${done === undefined ? ' (it never did)' : ` (at t=${done}s)`}`);
        }
      }
      if (s.outcome === 'complete' && s.finishedAt !== undefined && pod.startedAt >= s.finishedAt) {
        errors.push(`step ${s.step} ran again at t=${pod.startedAt}s after it had completed at t=${s.finishedAt}s`);
      }
    }
  }

  const { max: maxConcurrent, at: maxAt } = concurrency(Object.values(steps));
  if (input.cap > 0 && maxConcurrent > input.cap) {
    errors.push(`${maxConcurrent} steps ran at once at t=${maxAt}s although MLOPS_MAX_PARALLEL is ${input.cap}`);
  }
  // The same refusal or crash repeats every poll or restart: report it once, with a count.
  const denied = group(calls.filter((x) => x.denied), (x) => `${x.argv.join(' ')}\n${x.stderr}`);
  for (const [first, n] of denied) {
    errors.push(`the API refused the coordinator's call \`kubectl ${first.argv.join(' ')}\` at t=${first.at}s${again(n)}: ${first.stderr.trim()}`);
  }
  const crashes = group(runs.filter((r) => !r.killed && r.exitCode !== undefined && r.exitCode !== 0 && r.exitCode !== 3), (r) => `${r.exitCode}\n${tail(r.stderr, 4)}`);
  for (const [r, n] of crashes) {
    errors.push(`coordinator run #${r.run} exited with code ${r.exitCode} at t=${r.endedAt}s${again(n)}; its stderr ends: ${tail(r.stderr, 4) || '(empty)'}`);
  }

  const me = c && cluster?.job(c.namespace, c.job.metadata.name);
  const finalCondition = me ? input.coordinatorCondition(me.obj) : undefined;
  const outcome = !me ? (c ? 'deleted' : 'not started') : !finalCondition ? 'running' : finalCondition.type === 'Complete' ? 'Complete' : `Failed: ${finalCondition.reason}`;
  const last = [...runs].reverse().find((r) => !r.killed);
  const exitCode = last?.exitCode;
  if (c && me && finalCondition?.type === 'Failed' && !(finalCondition.reason === 'PodFailurePolicy' && exitCode === 3)) {
    errors.push(`the coordinator Job failed (${finalCondition.reason}) after ${runs.length} run(s)`);
  }
  if (c && exitCode === 0) {
    const open = Object.values(steps).filter((s) => s.outcome !== 'complete');
    if (open.length > 0) errors.push(`the coordinator exited 0 but ${open.map((s) => `${s.step} is ${s.outcome}`).join(', ')}`);
  }
  if (c && exitCode === 3) {
    const all = Object.values(steps);
    if (all.every((s) => s.outcome === 'complete')) errors.push('the coordinator exited 3 although every step completed');
    for (const s of all.filter((x) => x.outcome === 'waiting' || x.outcome === 'running')) {
      errors.push(`the coordinator exited 3 but left step ${s.step} ${s.outcome} without a skip reason`);
    }
  }
  if (c && cluster && exitCode === undefined && errors.length === 0) errors.push('the coordinator never finished');

  const finishes = Object.values(steps).map((s) => s.finishedAt ?? 0);
  const stdout = runs.map((r) => r.stdout).join('');
  const stderr = runs.map((r) => r.stderr).join('');
  const result: SimulationResult = {
    ok: errors.length === 0,
    errors,
    exitCode,
    steps,
    skipped,
    ledger: me?.obj.metadata.annotations?.[LEDGER],
    coordinator: { job: c?.job.metadata.name ?? '', outcome, runs, stdout, stderr },
    calls,
    polls: polls(calls),
    events: cluster?.events ?? [],
    makespan: Math.max(0, ...finishes),
    maxConcurrent,
    endedAt: (cluster?.now ?? epoch) - epoch,
    epoch,
    wallMs: input.wallMs,
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
  const by = new Map<string, { run: number; poll: number; at: number; list: number; patch: number; other: number }>();
  for (const call of calls) {
    const key = `${call.run}/${call.poll}`;
    let p = by.get(key);
    if (!p) by.set(key, (p = { run: call.run, poll: call.poll, at: call.at, list: 0, patch: 0, other: 0 }));
    if (call.tool !== 'kubectl') continue;
    const verb = call.request?.verb;
    if (verb === 'list') p.list += call.request?.pages ?? 1;
    else if (verb === 'patch') p.patch++;
    else p.other++;
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
  out.push(`coordinator ${r.coordinator.job}: ${r.coordinator.outcome}, exit code ${r.exitCode ?? '-'}, ${r.coordinator.runs.length} run(s); makespan ${r.makespan}s, stopped at t=${r.endedAt}s, max ${r.maxConcurrent} steps at once, ${r.calls.length} tool calls, ${r.wallMs} ms`);
  for (const e of r.errors) out.push(`ERROR: ${e}`);
  for (const w of warnings) out.push(`warning: ${w}`);
  const rows = [['step', 'released', 'started', 'finished', 'outcome', 'attempts', 'note']];
  for (const s of Object.values(r.steps)) {
    rows.push([s.step, s.releases.join(',') || '-', `${s.startedAt ?? '-'}`, `${s.finishedAt ?? '-'}`, s.outcome, `${s.attempts}`, s.skipped ?? s.reason ?? '']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) out.push(`  ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd());
  out.push('events:');
  for (const e of r.events) out.push(`  t=${e.at}s ${e.job ?? ''} ${e.what}`);
  out.push('coordinator output:');
  for (const run of r.coordinator.runs) {
    out.push(`  run #${run.run} (t=${run.startedAt}s..${run.endedAt ?? '?'}s, exit ${run.exitCode ?? '-'}${run.killed ? ', killed' : ''})`);
    for (const line of `${run.stdout}${run.stderr}`.trimEnd().split('\n')) out.push(`    ${line}`);
  }
  return out.join('\n');
}
