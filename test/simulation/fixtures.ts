import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Pipeline, PlainBackend, Step } from '../../src';
import { ManifestObject, SimulationResult } from '../../src/verify/simulator';

/**
 * Pipelines for the simulation tests, synthesized by the library itself: what the
 * simulator runs is exactly what `cdk8s synth` would write for these steps.
 */

export interface FixtureStep {
  readonly id: string;
  /** @default the pipeline's default image */
  readonly image?: string;
  readonly after?: readonly string[];
  readonly retries?: number;
  readonly timeoutSeconds?: number;
  readonly fanOut?: number;
  readonly fanOutParallelism?: number;
}

export interface FixtureOptions {
  readonly pipeline?: string;
  readonly steps: readonly FixtureStep[];
  /** @default 10 */
  readonly pollSeconds?: number;
  readonly runDeadlineSeconds?: number;
  readonly maxParallel?: number;
  readonly ttlSeconds?: number;
}

export function synthPipeline(o: FixtureOptions): ManifestObject[] {
  const app = Testing.app();
  const pipeline = new Pipeline(app, o.pipeline ?? 'demo', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/step:1.0' },
    backend: new PlainBackend({ pollInterval: Duration.seconds(o.pollSeconds ?? 10) }),
    ...(o.runDeadlineSeconds !== undefined && { runDeadline: Duration.seconds(o.runDeadlineSeconds) }),
    ...(o.maxParallel !== undefined && { maxParallel: o.maxParallel }),
    ...(o.ttlSeconds !== undefined && { ttlAfterFinished: Duration.seconds(o.ttlSeconds) }),
  });
  const made = new Map<string, Step>();
  for (const s of topological(o.steps)) {
    made.set(
      s.id,
      new ContainerStep(pipeline, s.id, {
        args: [s.id],
        ...(s.image !== undefined && { image: s.image }),
        after: (s.after ?? []).map((u) => made.get(u)!),
        ...(s.retries !== undefined && { retries: s.retries }),
        ...(s.timeoutSeconds !== undefined && { timeout: Duration.seconds(s.timeoutSeconds) }),
        ...(s.fanOut !== undefined && { fanOut: s.fanOut }),
        ...(s.fanOutParallelism !== undefined && { fanOutParallelism: s.fanOutParallelism }),
      }),
    );
  }
  return Testing.synth(pipeline) as ManifestObject[];
}

/** Steps of a DAG written as `a->b->c a->d` chains, with per-step settings. */
export function dag(edges: string, extra: Record<string, Partial<FixtureStep>> = {}): FixtureStep[] {
  const ids: string[] = [];
  const after = new Map<string, string[]>();
  for (const part of edges.split(/[\s,]+/).filter(Boolean)) {
    const chain = part.split('->');
    for (const id of chain) if (!ids.includes(id)) ids.push(id);
    for (let i = 1; i < chain.length; i++) after.set(chain[i], [...(after.get(chain[i]) ?? []), chain[i - 1]]);
  }
  return ids.map((id) => ({ id, after: after.get(id) ?? [], ...extra[id] }));
}

/** The synthesized coordinator script, edited: to prove the harness catches a broken one. */
export function withScript(objects: ManifestObject[], edit: (script: string) => string): ManifestObject[] {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator');
  if (!cm) throw new Error('no coordinator ConfigMap in the objects');
  const edited = edit(cm.data['coordinate.sh']);
  if (edited === cm.data['coordinate.sh']) throw new Error('the edit did not change the script');
  cm.data['coordinate.sh'] = edited;
  return objects;
}

/** Apply `change` to every object of a kind (optionally only the coordinator's). */
export function edit(objects: ManifestObject[], kind: string, change: (o: any) => void, coordinatorOnly = false): ManifestObject[] {
  for (const o of objects.filter((x) => x.kind === kind)) {
    if (!coordinatorOnly || o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator') change(o);
  }
  return objects;
}

/** Fail with the whole readable timeline when the harness found a problem. */
export function expectClean(r: SimulationResult): void {
  if (!r.ok) throw new Error(`the simulated run is not clean:\n${r.report()}`);
}

/** The longest duration-weighted path and the most steps on any path. */
export function criticalPath(steps: readonly FixtureStep[], duration: (id: string) => number): { seconds: number; depth: number } {
  const memo = new Map<string, { seconds: number; depth: number }>();
  const of = (id: string): { seconds: number; depth: number } => {
    const hit = memo.get(id);
    if (hit) return hit;
    const ups = (steps.find((s) => s.id === id)?.after ?? []).map(of);
    const v = { seconds: duration(id) + Math.max(0, ...ups.map((u) => u.seconds)), depth: 1 + Math.max(0, ...ups.map((u) => u.depth)) };
    memo.set(id, v);
    return v;
  };
  const all = steps.map((s) => of(s.id));
  return { seconds: Math.max(...all.map((a) => a.seconds)), depth: Math.max(...all.map((a) => a.depth)) };
}

function topological(steps: readonly FixtureStep[]): FixtureStep[] {
  const out: FixtureStep[] = [];
  const done = new Set<string>();
  while (out.length < steps.length) {
    const next = steps.find((s) => !done.has(s.id) && (s.after ?? []).every((u) => done.has(u)));
    if (!next) throw new Error('fixture steps have a cycle or an unknown upstream');
    out.push(next);
    done.add(next.id);
  }
  return out;
}
