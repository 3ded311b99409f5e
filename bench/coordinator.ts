/**
 * The coordinator's cost per poll: CPU time of its decision program (the jq text of
 * assets/coordinate.sh, run by the machine's jq exactly as the script runs it) on the Job
 * list of a synthesized pipeline, and the bytes of that list.
 *
 * The list is what `kubectl get jobs -o json` returns mid-run: every step Job as
 * synthesized (with the API server's metadata), the first half in plan order Complete and
 * recorded in the ledger, the rest suspended and waiting, and the coordinator Job. The
 * ledger is written by the program itself: one poll is run first and its ledger patch
 * applied, so the timed polls are steady-state ones.
 */
import { readFileSync } from 'fs';
import { join, resolve } from 'path';
import { Testing } from 'cdk8s';
import { ManifestObject, mergePatch, simulate } from '../src/verify/simulator';
import { decisionProgram, runDecision } from '../src/verify/simulator/decide';
import { randomDag } from './dag';
import { buildPipeline } from './workloads';

const ROOT = resolve(__dirname, '..', '..');
const EPOCH = 1_700_000_000;

export interface PollCost {
  readonly steps: number;
  /** Median CPU milliseconds of one decision. */
  readonly cpuMs: number;
  readonly runs: number[];
  /** Bytes of the Job list as kubectl prints it. */
  readonly listBytes: number;
  /** Actions the timed poll decided (releases of ready steps). */
  readonly actions: number;
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The Job list of a pipeline of `n` steps, half complete, as the API server returns it. */
export function midRunList(n: number): { plan: string; self: string; list: any } {
  // Testing.app(): a scratch output folder. A bare App's is ./dist, where the pipeline's
  // stale-output sweep (run by the validation Testing.synth runs) would delete the examples' files.
  const pipeline = buildPipeline(Testing.app(), randomDag(n));
  const objects = Testing.synth(pipeline) as any[];
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.data?.plan !== undefined);
  const plan: string = cm.data.plan;
  const order = plan.split('\n').filter(Boolean).map((l) => l.split('\t')[1]);
  const done = new Set(order.slice(0, Math.floor(order.length / 2)));
  let serial = 0;
  const items = objects.filter((o) => o.kind === 'Job').map((job) => {
    const name: string = job.metadata.name;
    const uid = `00000000-0000-4000-8000-${(++serial).toString(16).padStart(12, '0')}`;
    const complete = done.has(name);
    const coordinator = job.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator';
    return {
      ...job,
      metadata: { ...job.metadata, uid, resourceVersion: String(1000 + serial), generation: 1, creationTimestamp: iso(EPOCH) },
      spec: { ...job.spec, suspend: coordinator || complete ? false : true },
      status: complete
        ? {
          conditions: [{ type: 'Complete', status: 'True', lastProbeTime: iso(EPOCH + 60), lastTransitionTime: iso(EPOCH + 60) }],
          startTime: iso(EPOCH + 10), completionTime: iso(EPOCH + 60), succeeded: 1, ready: 0, uncountedTerminatedPods: {},
        }
        : coordinator ? { active: 1, ready: 1, startTime: iso(EPOCH), uncountedTerminatedPods: {} } : {},
    };
  });
  const self = items.find((j) => j.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator')!.metadata.name;
  return { plan, self, list: { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } } };
}

/** Time the decision program at `n` steps, `runs` times after one poll that writes the ledger. */
export function pollCost(n: number, runs: number): PollCost {
  const program = decisionProgram(readFileSync(join(ROOT, 'assets', 'coordinate.sh'), 'utf8'));
  const { plan, self, list } = midRunList(n);
  const now = EPOCH + 120;
  const first = runDecision(program, { jobs: JSON.stringify(list), plan, self, now });
  if (first.exitCode !== 0) throw new Error(`the decision program failed at ${n} steps: ${first.stderr}`);
  // Apply the ledger patch of the first poll to the coordinator's own Job.
  for (const [kind, job, patch] of first.lines) {
    if (kind !== 'patch' || job !== self) continue;
    const me = list.items.find((j: any) => j.metadata.name === self);
    Object.assign(me, mergePatch(me, JSON.parse(patch)));
  }
  // kubectl -o json prints with 4-space indentation.
  const text = `${JSON.stringify(list, null, 4)}\n`;
  const times: number[] = [];
  let actions = 0;
  for (let i = 0; i < runs; i++) {
    const r = runDecision(program, { jobs: text, plan, self, now });
    if (r.exitCode !== 0) throw new Error(`the decision program failed at ${n} steps: ${r.stderr}`);
    if (r.lines.some(([kind, job]) => kind === 'patch' && job === self)) throw new Error(`the ledger was rewritten in a steady-state poll at ${n} steps`);
    times.push(r.cpuMs);
    actions = r.lines.length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { steps: n, cpuMs: sorted[sorted.length >> 1], runs: times, listBytes: Buffer.byteLength(text), actions };
}

export interface ApiLoad {
  readonly steps: number;
  readonly polls: number;
  /** Median API requests of a poll that changed nothing (no patch): the steady state. */
  readonly steadyRequestsPerPoll: number;
  /** All API requests of the run divided by its polls, releases and ledger writes included. */
  readonly meanRequestsPerPoll: number;
}

/**
 * API requests per poll, counted by the simulated API server while the real script runs
 * a synthesized pipeline of `n` steps (60 s each, a 10 s poll) to its end.
 */
export async function apiLoad(n: number): Promise<ApiLoad> {
  const objects = Testing.synth(buildPipeline(Testing.app(), randomDag(n))) as ManifestObject[];
  const r = await simulate(objects, { defaultDuration: 60, timeoutMs: 600_000 });
  if (!r.ok) throw new Error(`the simulated run of ${n} steps is not clean:\n${r.errors.join('\n')}`);
  const requests = (p: (typeof r.polls)[number]) => p.list + p.patch + p.other;
  const steady = r.polls.filter((p) => p.patch === 0).map(requests).sort((a, b) => a - b);
  const total = r.polls.reduce((sum, p) => sum + requests(p), 0);
  return { steps: n, polls: r.polls.length, steadyRequestsPerPoll: steady[steady.length >> 1], meanRequestsPerPoll: total / r.polls.length };
}
