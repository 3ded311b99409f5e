import { Duration, Testing } from 'cdk8s';
import { ManifestObject, ObjectStoreModel, simulate, SimulateOptions, SimulationResult } from '../../src/verify/simulator';
import { objectStorePipeline, REGISTRY_SECRET } from '../serving/promote-fixtures';
import { expectClean } from './fixtures';
import { Look, lookAt, READER, readerRbac } from './observer';

/**
 * Promotion into a model registry on an object store, in the simulated cluster: the gate's
 * baseline download and the promotion's upload (assets/registry-s3.sh) run for real with the
 * real AWS CLI v2 against the S3 model on loopback (src/verify/simulator/object-store.ts),
 * signed with the access key of the Secret `registry-s3` (present only in the simulated
 * cluster); gate.sh and promote.sh run with the real kubectl. Training and evaluation are
 * modelled. The store outlives each simulation, as a bucket outlives pipeline runs.
 */
const ACCESS_KEY_ID = 'AKIAREGISTRYSIM';
// A guard against hangs, not a speed check: each AWS CLI call starts a Python interpreter
// (1 to 10 s on two shared cores); a run makes about fifteen.
jest.setTimeout(600_000);
const secret: ManifestObject = {
  apiVersion: 'v1', kind: 'Secret', metadata: { name: REGISTRY_SECRET.secret, namespace: 'ml' },
  stringData: { [REGISTRY_SECRET.accessKeyIdKey]: ACCESS_KEY_ID, [REGISTRY_SECRET.secretAccessKeyKey]: 'only-in-the-simulated-cluster' },
};

function objects(runId: string, ttl?: Duration): ManifestObject[] {
  const app = Testing.app();
  const { p } = objectStorePipeline(app, { runId, ttl });
  return [...(Testing.synth(p) as ManifestObject[]), secret];
}

const trained = (run: string, auc: number): SimulateOptions['steps'] => ({
  train: { files: { '$MLOPS_OUTPUT_MODEL/saved_model.pb': `model of ${run}`, '$MLOPS_OUTPUT_MODEL/variables/variables.index': 'weights' } },
  evaluate: { files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ auc, logloss: 0.3 }) } },
});

let store: ObjectStoreModel;
beforeEach(async () => {
  store = new ObjectStoreModel({ buckets: ['ml-models'], accessKeyId: ACCESS_KEY_ID });
  await store.start();
});
afterEach(async () => {
  await store.stop();
});

const run = (objs: ManifestObject[], options: SimulateOptions): Promise<SimulationResult> => simulate(objs, { timeoutMs: 500_000, ...options, objectStore: { endpoint: store.endpoint } });

/** The versions of model churn in the bucket, by key below registry/churn/. */
function registry(): Record<string, string> {
  return Object.fromEntries(Object.entries(store.objects('ml-models')).filter(([k]) => k.startsWith('registry/churn/')).map(([k, v]) => [k.slice('registry/churn/'.length), v]));
}

describe('promotion into an object-store registry, in the simulated cluster with the real AWS CLI', () => {
  test('a passing gate publishes version 1 (files, lineage, READY last), then a second run version 2 compared with it; churn-server is restarted', async () => {
    const first = await run(objects('run-1'), { steps: trained('run-1', 0.91) });
    expectClean(first);
    expect(first.exitCode).toBe(0);
    expect(first.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict-detail']).toMatch(/^no baseline yet: judged on absolute thresholds only; /);
    expect(Object.keys(registry()).filter((k) => !k.startsWith('.claims/')).sort()).toEqual(['1/READY', '1/lineage.json', '1/saved_model.pb', '1/variables/variables.index']);
    expect(registry()['1/saved_model.pb']).toBe('model of run-1');
    expect(JSON.parse(registry()['1/lineage.json'])).toMatchObject({
      model: 'churn', version: 1, baseline: { version: null }, run: { pipeline: 'churn', id: 'run-1', job: first.steps.promote.job }, metrics: { auc: 0.91 }, gate: { verdict: 'approved' },
    });
    const uploads = store.requests.filter((q) => q.op === 'PutObject' && /^registry\/churn\/1\//.test(q.key)).map((q) => q.key.slice('registry/churn/1/'.length));
    expect(uploads[uploads.length - 1]).toBe('READY');
    expect(uploads.sort()).toEqual(['READY', 'lineage.json', 'saved_model.pb', 'variables/variables.index']);
    // The three containers of the promotion pod, in order: lineage (jq), publish (aws), promote (kubectl hooks).
    expect(first.containers.filter((c) => c.step === 'promote').map((c) => `${c.container} ${c.exitCode}`)).toEqual(['lineage 0', 'publish 0', 'promote 0']);
    const promote = first.containers.find((c) => c.step === 'promote' && c.container === 'promote')!;
    expect(promote.stdout).toContain('promote: told: restart deployment/churn-server');
    // As the promotion's ServiceAccount: a GET and a PATCH of the one Deployment its Role names.
    expect(promote.kubectl.flatMap((c) => c.requests).filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.resource}/${q.name} ${q.code}`))
      .toEqual(['get deployments/churn-server 200', 'patch deployments/churn-server 200']);
    expect(new Set(store.requests.map((q) => q.accessKeyId))).toEqual(new Set([ACCESS_KEY_ID]));

    const second = await run(objects('run-2'), { steps: trained('run-2', 0.93) });
    expectClean(second);
    expect(second.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict-detail'])
      .toBe('compared with version 1 of churn in registry s3://ml-models/registry; auc 0.93 >= 0.8; auc 0.93 >= baseline 0.91 - 0.01');
    const r = registry();
    expect(Object.keys(r).filter((k) => k.endsWith('READY')).sort()).toEqual(['1/READY', '2/READY']);
    expect(r['2/saved_model.pb']).toBe('model of run-2');
    expect(JSON.parse(r['2/lineage.json'])).toMatchObject({ version: 2, run: { id: 'run-2' }, baseline: { version: 1 } });
  });

  test('a rejecting gate (worse than the registry\'s newest version) publishes nothing', async () => {
    store.put('ml-models', 'registry/churn/1/saved_model.pb', 'model of run-0');
    store.put('ml-models', 'registry/churn/1/lineage.json', JSON.stringify({ version: 1, metrics: { auc: 0.95 } }));
    store.put('ml-models', 'registry/churn/1/READY', '');
    const before = registry();
    const r = await run(objects('run-2'), { steps: trained('run-2', 0.9) });
    expectClean(r);
    expect(r.exitCode).toBe(4);
    expect(r.steps['evaluate-gate'].annotations?.['mlops.cdk8s.io/verdict']).toBe('rejected: auc 0.9 < baseline 0.95 - 0.01');
    expect(r.steps.promote.pods).toEqual([]);
    expect(registry()).toEqual(before);
    expect(store.requests.filter((q) => !['ListObjectsV2', 'HeadObject', 'GetObject'].includes(q.op))).toEqual([]);
  });

  test('TTL deletes every Job: the servers\' Deployments stay, naming no Job, workspace or claim, only the bucket and its Secret', async () => {
    const later = 1_000;
    const looks: Look[] = [];
    const r = await run([...objects('run-1', Duration.seconds(60)), ...readerRbac], {
      steps: trained('run-1', 0.91),
      // Applying only the reader's RBAC later keeps the simulation going past every TTL.
      faults: { applyAt: [{ at: later, objects: readerRbac }] },
      observer: { user: READER, at: [later - 1], look: async (view) => { looks.push(await lookAt(view)); } },
    });
    expectClean(r);
    expect(r.exitCode).toBe(0);
    expect(Object.keys(registry()).filter((k) => k.endsWith('READY'))).toEqual(['1/READY']);
    const [afterTtl] = looks;
    expect(afterTtl.jobs).toEqual([]);
    expect(Object.keys(afterTtl.deployments).sort()).toEqual(['churn-server', 'churn-tf']);
    for (const d of Object.values(afterTtl.deployments)) {
      const pod = d.spec.template.spec;
      expect(JSON.stringify(pod)).not.toMatch(/workspace|churn-promote|job-name|persistentVolumeClaim/);
      expect(pod.volumes.map((v: any) => Object.keys(v).filter((k) => k !== 'name')[0]).sort()).toEqual(expect.arrayContaining(['configMap', 'emptyDir']));
      expect(pod.initContainers[0]).toMatchObject({ name: 'pull-model', image: 'amazon/aws-cli:2.9.19' });
      expect(d.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/registry-s3');
    }
    // TensorFlow Serving follows new versions: a sync sidecar; the image server is restarted instead.
    expect(afterTtl.deployments['churn-tf'].spec.template.spec.containers.map((c: any) => c.name)).toEqual(['server', 'sync-model']);
    expect(afterTtl.deployments['churn-server'].spec.template.spec.containers.map((c: any) => c.name)).toEqual(['server']);
    expect(Object.keys(afterTtl.deployments['churn-server'].spec.template.metadata.annotations)).toEqual(['kubectl.kubernetes.io/restartedAt']);
  });
});
