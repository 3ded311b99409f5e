import { Duration, Testing } from 'cdk8s';
import { ManifestObject, simulate, SimulateOptions, SimulationResult } from '../../src/verify/simulator';
import { churnEndToEnd } from '../../examples/churn/serving';
import { promotedPipeline } from '../serving/promote-fixtures';
import { expectClean } from './fixtures';
import { Look, lookAt, READER, readerRbac } from './observer';

/**
 * Promotion end to end in the simulated cluster: the gate (assets/gate.sh) and the promotion
 * (assets/promote.sh) run for real with the real kubectl, as their ServiceAccounts; the
 * training and evaluation containers are modelled and leave their files on the workspace
 * claim. The registry is the claim `model-registry`, kept across runs. An observer, a user
 * allowed only to read, looks at the Deployments and Jobs through the API.
 *
 * churn: ingest -> features -> train -> evaluate -> evaluate-gate -> promote, plus the
 * servers churn-server (any image: restarted) and churn-tf (TensorFlow Serving: polls).
 */
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

function objects(runId: string, ttl?: Duration): ManifestObject[] {
  const app = Testing.app();
  const { p } = promotedPipeline(app, { runId, ttl });
  return [...(Testing.synth(p) as ManifestObject[]), ...readerRbac];
}

/** The modelled training and evaluation: a model folder, then the metrics. */
const trained = (run: string, auc: number): SimulateOptions['steps'] => ({
  train: { files: { '$MLOPS_OUTPUT_MODEL/saved_model.pb': `model of ${run}`, '$MLOPS_OUTPUT_MODEL/variables/variables.index': 'weights' } },
  evaluate: { files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ auc, logloss: 0.3 }) } },
});

async function run(objs: ManifestObject[], options: SimulateOptions, at: number[] = []): Promise<{ r: SimulationResult; looks: Look[] }> {
  const looks: Look[] = [];
  const r = await simulate(objs, { ...options, observer: { user: READER, at, look: async (view) => { looks.push(await lookAt(view)); } } });
  return { r, looks };
}

/** The registry's files of model `churn`, by path below `churn/`, without the lineage's clock. */
function registryOf(r: SimulationResult): Record<string, string> {
  return Object.fromEntries(Object.entries(r.claims['model-registry'] ?? {}).filter(([p]) => p.startsWith('churn/')).map(([p, v]) => [p.slice('churn/'.length), v]));
}

describe('promotion in the simulated cluster, gate.sh and promote.sh running for real', () => {
  test('an approved model is published as version 1 (READY, lineage) and the image server is restarted; TensorFlow Serving is left to poll', async () => {
    const { r, looks } = await run(objects('run-1'), { steps: trained('run-1', 0.91) });
    expectClean(r);
    expect(r.exitCode).toBe(0);
    expect(r.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('approved');
    expect(r.steps.promote.startedAt!).toBeGreaterThanOrEqual(r.steps['evaluate-gate'].finishedAt!);
    const registry = registryOf(r);
    expect(Object.keys(registry).sort()).toEqual(['1/READY', '1/lineage.json', '1/saved_model.pb', '1/variables/variables.index']);
    expect(registry['1/saved_model.pb']).toBe('model of run-1');
    const lineage = JSON.parse(registry['1/lineage.json']);
    expect(lineage).toMatchObject({ model: 'churn', version: 1, run: { pipeline: 'churn', id: 'run-1', job: r.steps.promote.job }, metrics: { auc: 0.91 }, gate: { verdict: 'approved' }, baseline: { version: null } });
    const promote = r.containers.find((c) => c.step === 'promote')!;
    expect(promote.exitCode).toBe(0);
    // As its own ServiceAccount: a GET and a PATCH of the one Deployment its Role names.
    expect(promote.kubectl.flatMap((c) => c.requests).filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.resource}/${q.name} ${q.code}`))
      .toEqual(['get deployments/churn-server 200', 'patch deployments/churn-server 200']);
    const [final] = looks;
    expect(Object.keys(final.deployments['churn-server'].spec.template.metadata.annotations)).toEqual([RESTARTED_AT]);
    expect(final.deployments['churn-tf'].spec.template.metadata.annotations).toBeUndefined();
    expect(final.deployments['churn-tf'].metadata.generation ?? 1).toBe(1);
  });

  test('a rejected model is published nowhere: promotion skipped, the registry and the Deployments as they were', async () => {
    // Version 1 serves already; the new model is worse than it.
    const before = { 'churn/1/saved_model.pb': 'model of run-0', 'churn/1/lineage.json': JSON.stringify({ metrics: { auc: 0.95 } }), 'churn/1/READY': '' };
    const { r, looks } = await run(objects('run-2'), { steps: trained('run-2', 0.9), claims: { 'model-registry': before } });
    expectClean(r);
    expect(r.exitCode).toBe(4);
    expect(r.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.9 < baseline 0.95 - 0.01');
    expect(r.steps.promote.pods).toEqual([]);
    expect(r.steps.promote.skipped).toBe('gate rejected: auc 0.9 < baseline 0.95 - 0.01');
    expect(r.containers.map((c) => c.step)).toEqual(['evaluate-gate']);
    expect(r.claims['model-registry']).toEqual(before);
    const [final] = looks;
    for (const name of ['churn-server', 'churn-tf']) {
      expect(final.deployments[name].spec.template.metadata.annotations).toBeUndefined();
      expect(final.deployments[name].metadata.generation ?? 1).toBe(1);
    }
  });

  test('TTL deletes every Job, the coordinator too: the Deployments, their restart and the registry stay', async () => {
    const objs = objects('run-1', Duration.seconds(60));
    // Applying only the reader's RBAC later keeps the simulation going past every TTL.
    const later = 1_000;
    const { r, looks } = await run(objs, { steps: trained('run-1', 0.91), faults: { applyAt: [{ at: later, objects: readerRbac }] } }, [later - 1]);
    expectClean(r);
    const [afterTtl] = looks;
    expect(afterTtl.at).toBe(later - 1);
    expect(afterTtl.jobs).toEqual([]);
    expect(Object.keys(afterTtl.deployments).sort()).toEqual(['churn-server', 'churn-tf']);
    expect(Object.keys(afterTtl.deployments['churn-server'].spec.template.metadata.annotations)).toEqual([RESTARTED_AT]);
    const registry = registryOf(r);
    expect(Object.keys(registry).sort()).toEqual(['1/READY', '1/lineage.json', '1/saved_model.pb', '1/variables/variables.index']);
    // Nothing the servers mount or name is a Job or the workspace.
    for (const d of Object.values(afterTtl.deployments)) expect(JSON.stringify(d.spec)).not.toMatch(/workspace|churn-promote|job-name/);
  });

  test('a restart that fails fails the promotion pod; the Job\'s retry publishes nothing new and restarts the server', async () => {
    const objs = objects('run-1');
    const server = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'churn-server')!;
    // The server's Deployment is missing when the promotion runs (t=45), and back at t=50.
    const { r, looks } = await run(objs, {
      steps: trained('run-1', 0.91),
      faults: { deleteObjects: [{ at: 44, kind: 'Deployment', name: 'churn-server' }], applyAt: [{ at: 50, objects: [server] }] },
    });
    // The harness reports a refusal of a library container's call as an error: here the expected one (the try, and the try a second later).
    const refused = 'the API refused container promote of step promote: `kubectl rollout restart deployment/churn-server`: '
      + 'Error from server (NotFound): deployments.apps "churn-server" not found';
    expect([...new Set(r.errors)]).toEqual([refused]);
    expect(r.exitCode).toBe(0);
    const runs = r.containers.filter((c) => c.step === 'promote');
    expect(runs.map((c) => c.exitCode)).toEqual([1, 0]);
    expect(runs[0].stderr).toContain('promote: version 1 of churn is published, but \'restart deployment/churn-server\' failed; the Job retries it');
    expect(runs[1].stdout).toMatch(/promote: \S+ is version 1 of churn already; nothing new to publish/);
    expect(Object.keys(registryOf(r)).filter((p) => p.endsWith('READY'))).toEqual(['1/READY']);
    expect(Object.keys(looks[0].deployments['churn-server'].spec.template.metadata.annotations)).toEqual([RESTARTED_AT]);
  });

  test('a second run publishes version 2, compared with version 1', async () => {
    const first = await run(objects('run-1'), { steps: trained('run-1', 0.91) });
    expectClean(first.r);
    const second = await run(objects('run-2'), { steps: trained('run-2', 0.93), claims: { 'model-registry': first.r.claims['model-registry'] } });
    expectClean(second.r);
    expect(second.r.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict-detail']).toMatch(/^compared with version 1 of churn in registry model-registry; /);
    const registry = registryOf(second.r);
    expect(Object.keys(registry).filter((p) => p.endsWith('READY')).sort()).toEqual(['1/READY', '2/READY']);
    expect(registry['2/saved_model.pb']).toBe('model of run-2');
    expect(JSON.parse(registry['2/lineage.json'])).toMatchObject({ version: 2, run: { id: 'run-2' }, baseline: { version: 1 } });
    expect(registry['1/lineage.json']).toBe(registryOf(first.r)['1/lineage.json']);
  });

  test('the churn example end to end: its gate approves, its promotion publishes churn/1 and restarts churn-server', async () => {
    const app = Testing.app();
    const churn = churnEndToEnd(app);
    const objs = Testing.synth(churn.pipeline) as ManifestObject[];
    const r = await simulate(objs, {
      namespace: 'ml-churn',
      steps: {
        train: { files: { '$MLOPS_OUTPUT_MODEL/model.joblib': 'churn model' } },
        evaluate: { files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ auc: 0.84, logloss: 0.35 }) } },
      },
    });
    expectClean(r);
    expect(r.exitCode).toBe(0);
    expect(r.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('approved');
    const registry = r.claims['churn-models'];
    expect(Object.keys(registry).sort()).toEqual(['churn/1/READY', 'churn/1/lineage.json', 'churn/1/model.joblib']);
    const promote = r.containers.find((c) => c.step === 'promote')!;
    expect(promote.stdout).toContain('promote: told: restart deployment/churn-server');
  });
});
