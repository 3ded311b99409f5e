import { Chart, Duration, Testing } from 'cdk8s';
import { BatchData, BatchInference, ContainerStep, Evaluate, Features, ModelRegistry, Pipeline, Threshold, Train } from '../../src';
import { ManifestObject, ObjectStoreModel, simulate, SimulationResult } from '../../src/verify/simulator';
import { REGISTRY_SECRET } from './promote-fixtures';

/**
 * A BatchInference on a registry on an object store, in the simulated cluster: its CronJob
 * fires as the CronJob controller would; `pull-model` (assets/registry-s3.sh) runs for real
 * with the real AWS CLI v2 against the S3 model on loopback, then `pick-version` in bash on
 * what it downloaded; the scoring container is modelled.
 */
// A guard against hangs, not a speed check: each AWS CLI call starts a Python interpreter.
jest.setTimeout(600_000);

const MONDAY_0200 = 1_799_028_000; // Mon 4 Jan 2027 02:00 UTC: scoring at 02:05
const ACCESS_KEY_ID = 'AKIASCORINGSIM';
const scoringRun = `churn-scores-${Math.floor((MONDAY_0200 + 300) / 60)}`;

function objects(): ManifestObject[] {
  const app = Testing.app();
  const registry = ModelRegistry.fromObjectStore('s3://ml-models/registry', { credentials: REGISTRY_SECRET, endpoint: 'http://minio.storage:9000' });
  const retrain = new Pipeline(app, 'churn-retrain', {
    namespace: 'ml-churn', defaults: { image: 'ghcr.io/acme-ml/churn:1.4.2' }, runDeadline: Duration.hours(4),
    schedule: { cron: '0 3 * * 1', timeZone: 'UTC' },
  });
  const fetch = new ContainerStep(retrain, 'fetch', { outputs: { features: Features } });
  const train = new Train(retrain, 'train', { features: fetch.outputs.features });
  const evaluate = new Evaluate(retrain, 'evaluate', { model: train.outputs.model, testData: fetch.outputs.features, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)] });
  const scoring = new Chart(app, 'scoring', { namespace: 'ml-churn' });
  new BatchInference(scoring, 'churn-scores', {
    approvedModel: evaluate.approvedModel, registry, model: 'churn', schedule: { cron: '5 * * * *', timeZone: 'UTC' },
    image: 'ghcr.io/acme-ml/churn:1.4.2', input: BatchData.fromUri('s3://lake/customers'), output: BatchData.fromUri('s3://lake/scores'),
  });
  const secret: ManifestObject = {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: REGISTRY_SECRET.secret, namespace: 'ml-churn' },
    stringData: { [REGISTRY_SECRET.accessKeyIdKey]: ACCESS_KEY_ID, [REGISTRY_SECRET.secretAccessKeyKey]: 'only-in-the-simulated-cluster' },
  };
  return [...Testing.synth(retrain), ...Testing.synth(scoring), secret] as ManifestObject[];
}

let store: ObjectStoreModel;
beforeEach(async () => {
  store = new ObjectStoreModel({ buckets: ['ml-models'], accessKeyId: ACCESS_KEY_ID });
  await store.start();
});
afterEach(async () => {
  await store.stop();
});

const run = (): Promise<SimulationResult> => simulate(objects(), {
  startTime: MONDAY_0200, namespace: 'ml-churn', runs: { until: 300 }, timeoutMs: 500_000,
  cronJobs: { 'churn-scores': { durations: [60] } }, objectStore: { endpoint: store.endpoint },
});
const library = (r: SimulationResult) => r.containers.filter((c) => c.job === scoringRun).map((c) => ({ container: c.container, exitCode: c.exitCode, stdout: c.stdout, stderr: c.stderr }));

test('the scheduled run downloads the newest ready version (not a newer one without READY), links it, and scores', async () => {
  store.put('ml-models', 'registry/churn/3/model.bin', 'v3');
  store.put('ml-models', 'registry/churn/3/lineage.json', '{"version":3}');
  store.put('ml-models', 'registry/churn/3/READY', '');
  store.put('ml-models', 'registry/churn/4/model.bin', 'half of v4');
  const r = await run();
  expect(r.errors).toEqual([]);
  expect(library(r)).toEqual([
    { container: 'pull-model', exitCode: 0, stdout: 'registry: version 3 of s3://ml-models/registry/churn is in /models/churn/3\n', stderr: '' },
    { container: 'pick-version', exitCode: 0, stdout: 'serving version 3 of /models/churn\n', stderr: '' },
  ]);
  expect(r.events).toContainEqual({ at: 360, job: scoringRun, what: 'Complete' });
  expect(store.requests.filter((q) => q.op === 'GetObject').map((q) => q.key).sort()).toEqual(['registry/churn/3/READY', 'registry/churn/3/lineage.json', 'registry/churn/3/model.bin']);
});

test('no ready version: pull-model fails the run at once (exit 3, not retried) with the reason', async () => {
  store.put('ml-models', 'registry/churn/4/model.bin', 'half of v4');
  const r = await run();
  expect(r.errors).toEqual([]);
  expect(library(r)).toEqual([{
    container: 'pull-model', exitCode: 3, stdout: '',
    stderr: 'registry: no ready version of any number in s3://ml-models/registry/churn: nothing to load; publish an approved version, or pin one that is ready\n',
  }]);
  const events = r.events.filter((e) => e.job === scoringRun).map((e) => e.what);
  expect(events).toContain('Failed: PodFailurePolicy');
  expect(events.filter((w) => /^pod .* started$/.test(w))).toHaveLength(1);
});
