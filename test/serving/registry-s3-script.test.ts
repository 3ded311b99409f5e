import * as fs from 'fs';
import type { ObjectStoreRequest } from '../../src/verify/simulator/object-store';
import { objectStoreFixture, ACCESS_KEY_ID, BUCKET } from '../support/object-store';

/**
 * assets/registry-s3.sh run for real: bash and the real AWS CLI v2 (2.9.19, Debian's
 * `awscli`) against the simulator's S3 model on loopback (src/verify/simulator/object-store.ts).
 */
// A guard against hangs, not a speed check: each AWS CLI call starts a Python interpreter
// (1 to 10 s on two shared cores), and a promotion makes about ten.
jest.setTimeout(600_000);

type Fixture = Awaited<ReturnType<typeof objectStoreFixture>>;
let f: Fixture;
/** Runs before the store answers each request: a test may hold requests back or look at the pod's folder. */
let before: (q: ObjectStoreRequest) => Promise<void> | void;
beforeEach(async () => {
  before = () => undefined;
  f = await objectStoreFixture({ before: (q) => before(q) });
});
afterEach(async () => {
  await f.close();
});

const MODEL = { 'saved_model.pb': 'model one', 'variables/variables.index': 'weights' };
const TAIL = (run: string) => JSON.stringify({ model: 'churn', run: { id: run, job: run }, source: { path: `/mnt/workspace/churn/train-${run}/model` }, metrics: { auc: 0.9 }, gate: { verdict: 'approved' } });

async function publish(job: string, model: Record<string, string> = MODEL) {
  const dir = f.files(`${job}/model`, model);
  const tail = f.files(`${job}/lineage`, { 'tail.json': TAIL(job) });
  const r = await f.run(['publish', dir, `${tail}/tail.json`, `${f.dir}/${job}/version`], { MLOPS_SELF: job });
  return { ...r, version: f.tree(job).version?.trim() };
}

/** A version as a promotion leaves it, written straight into the store (`ready`: with its READY). */
function seed(version: number, content: string, ready = true): void {
  f.store.put(BUCKET, `registry/churn/${version}/saved_model.pb`, content);
  f.store.put(BUCKET, `registry/churn/${version}/lineage.json`, JSON.stringify({ version, metrics: { auc: 0.9 } }));
  if (ready) f.store.put(BUCKET, `registry/churn/${version}/READY`, '');
}

const registry = () => Object.fromEntries(Object.entries(f.store.objects(BUCKET)).filter(([k]) => k.startsWith('registry/churn/')).map(([k, v]) => [k.slice('registry/churn/'.length), v]));

describe('registry-s3.sh publish', () => {
  test('publishes version 1, then 2, files first, lineage, READY last; every request signed with the Secret\'s key id', async () => {
    const one = await publish('churn-promote-aaaa');
    expect(one).toMatchObject({ code: 0, version: '1' });
    expect(one.stdout).toContain('registry: published');
    const two = await publish('churn-promote-bbbb', { 'saved_model.pb': 'model two' });
    expect(two).toMatchObject({ code: 0, version: '2' });
    const r = registry();
    expect(Object.keys(r).sort()).toEqual([
      '.claims/1/churn-promote-aaaa', '.claims/2/churn-promote-bbbb',
      '1/READY', '1/lineage.json', '1/saved_model.pb', '1/variables/variables.index',
      '2/READY', '2/lineage.json', '2/saved_model.pb',
    ]);
    expect(r['2/saved_model.pb']).toBe('model two');
    expect(JSON.parse(r['1/lineage.json'])).toEqual({ version: 1, baseline: { version: null, note: 'the latest ready version when this one was published' }, ...JSON.parse(TAIL('churn-promote-aaaa')) });
    expect(JSON.parse(r['2/lineage.json'])).toMatchObject({ version: 2, baseline: { version: 1 } });
    const puts = f.store.requests.filter((q) => q.op === 'PutObject' && q.key.startsWith('registry/churn/2/')).map((q) => q.key.slice('registry/churn/2/'.length));
    expect(puts).toEqual(['saved_model.pb', 'lineage.json', 'READY']);
    expect(new Set(f.store.requests.map((q) => `${q.accessKeyId} ${q.region}`))).toEqual(new Set([`${ACCESS_KEY_ID} eu-west-1`]));
  });

  test('a retry of the same Job publishes nothing new; one that died before READY finishes its own version', async () => {
    expect(await publish('churn-promote-aaaa')).toMatchObject({ code: 0, version: '1' });
    const again = await publish('churn-promote-aaaa');
    expect(again).toMatchObject({ code: 0, version: '1' });
    expect(again.stdout).toContain('registry: this model is version 1 of registry/churn already; nothing new to publish');
    // A pod that died after claiming 2 and uploading, before READY.
    f.store.put(BUCKET, 'registry/churn/.claims/2/churn-promote-bbbb', '');
    f.store.put(BUCKET, 'registry/churn/2/saved_model.pb', 'half');
    const retry = await publish('churn-promote-bbbb', { 'saved_model.pb': 'model two' });
    expect(retry).toMatchObject({ code: 0, version: '2' });
    expect(registry()['2/saved_model.pb']).toBe('model two');
    expect(Object.keys(registry()).filter((k) => k.endsWith('READY'))).toEqual(['1/READY', '2/READY']);
  });

  test('an empty model folder or a lineage that is not an object fails before anything is written', async () => {
    const empty = f.files('e/model', {});
    const tail = f.files('e/lineage', { 'tail.json': TAIL('e') });
    const r = await f.run(['publish', empty, `${tail}/tail.json`, `${f.dir}/e/version`], { MLOPS_SELF: 'e' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`registry: the approved model's folder ${empty} is missing or empty: the training step must write its model there\n`);
    expect(registry()).toEqual({});
  });

  test('a key id the store does not know is refused (403 InvalidAccessKeyId): the promotion fails, nothing is written', async () => {
    const dir = f.files('x/model', MODEL);
    const tail = f.files('x/lineage', { 'tail.json': TAIL('x') });
    const r = await f.run(['publish', dir, `${tail}/tail.json`, `${f.dir}/x/version`], { MLOPS_SELF: 'x', AWS_ACCESS_KEY_ID: 'AKIAWRONG' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('InvalidAccessKeyId');
    expect(registry()).toEqual({});
  });
});

describe('two promotions racing for one version number', () => {
  test('both claim version 1 before either lists: neither takes it alone, and they end with distinct versions', async () => {
    // Hold every listing of .claims/1/ until both claims of version 1 are written: the worst interleaving.
    let claimsOf1 = 0;
    let release: () => void = () => undefined;
    const bothClaimed = new Promise<void>((resolve) => { release = resolve; });
    before = async (q) => {
      if (q.op === 'PutObject' && q.key.startsWith('registry/churn/.claims/1/') && ++claimsOf1 === 2) release();
      if (q.op === 'ListObjectsV2' && q.key === 'registry/churn/.claims/1/') await bothClaimed;
    };
    const [a, b] = await Promise.all([publish('churn-promote-aaaa'), publish('churn-promote-bbbb', { 'saved_model.pb': 'model two' })]);
    expect([a, b].map((x) => (x.code === 0 ? 0 : x.stderr))).toEqual([0, 0]);
    expect(claimsOf1).toBeGreaterThanOrEqual(2);
    // The higher name steps aside; the lower one looks again and gets version 1.
    expect(b.stdout).toContain('registry: version 1 is claimed by churn-promote-aaaa churn-promote-bbbb too; trying another number');
    expect([a.version, b.version]).toEqual(['1', '2']);
    expect(a.version).not.toBe(b.version);
    const r = registry();
    // Each version holds exactly one promotion's model, and is claimed by that promotion only.
    for (const [run, version] of [['churn-promote-aaaa', a.version], ['churn-promote-bbbb', b.version]]) {
      expect(JSON.parse(r[`${version}/lineage.json`]).run.job).toBe(run);
      expect(Object.keys(r).filter((k) => k.startsWith(`.claims/${version}/`))).toEqual([`.claims/${version}/${run}`]);
    }
    expect(r[`${b.version}/saved_model.pb`]).toBe('model two');
  });
});

describe('registry-s3.sh pull, sync and baseline', () => {
  test('pull takes the newest version holding READY, into <dir>/<n>, and ignores a newer one without READY', async () => {
    seed(1, 'model one');
    seed(2, 'model two');
    seed(3, 'still uploading', false);
    const r = await f.run(['pull', `${f.dir}/models/churn`, '', 'wait']);
    expect(r).toMatchObject({ code: 0, stdout: `registry: version 2 of s3://ml-models/registry/churn is in ${f.dir}/models/churn/2\n` });
    expect(f.tree('models')).toEqual({ 'churn/2/READY': '', 'churn/2/lineage.json': '{"version":2,"metrics":{"auc":0.9}}', 'churn/2/saved_model.pb': 'model two' });
  });

  test('pull of a pinned version (the rollback) takes that one, not the newest', async () => {
    seed(1, 'model one');
    seed(2, 'model two');
    const r = await f.run(['pull', `${f.dir}/models/churn`, '1', 'wait']);
    expect(r.code).toBe(0);
    expect(f.tree('models')['churn/1/saved_model.pb']).toBe('model one');
    expect(Object.keys(f.tree('models')).some((k) => k.startsWith('churn/2/'))).toBe(false);
  });

  test('pull with nothing ready: fails with exit 3 and the reason (batch), or waits (servers)', async () => {
    seed(1, 'no READY', false);
    const r = await f.run(['pull', `${f.dir}/models/churn`, '', 'fail']);
    expect(r).toMatchObject({ code: 3, stderr: 'registry: no ready version of any number in s3://ml-models/registry/churn: nothing to load; publish an approved version, or pin one that is ready\n' });
    const waiting = f.start(['pull', `${f.dir}/models/churn`, '', 'wait']);
    await until(() => waiting.output().includes('registry: no ready version of any number in s3://ml-models/registry/churn yet; waiting'));
    expect(f.tree('models')).toEqual({});
  });

  test('sync pulls a newly ready version whole (staging, then one rename) and ignores one without READY', async () => {
    seed(1, 'model one');
    expect((await f.run(['pull', `${f.dir}/models/churn`, '', 'wait'])).code).toBe(0);
    const sync = f.start(['sync', `${f.dir}/models/churn`, '1']);
    // Version 2 without READY: listed, never downloaded.
    seed(2, 'model two', false);
    await until(() => f.store.requests.filter((q) => q.op === 'HeadObject' && q.key === 'registry/churn/2/READY').length >= 2);
    expect(Object.keys(f.tree('models/churn')).filter((k) => k.startsWith('2/'))).toEqual([]);
    // READY appears: the next round downloads it. While its files arrive, 2/ does not exist yet.
    const local = `${f.dir}/models/churn`;
    const seen: string[] = [];
    before = (q) => {
      if (q.op === 'GetObject' && q.key.startsWith('registry/churn/2/')) seen.push(`${q.key.slice('registry/churn/'.length)}: 2/ ${fs.existsSync(`${local}/2`) ? 'exists' : 'absent'}`);
    };
    f.store.put(BUCKET, 'registry/churn/2/READY', '');
    await until(() => fs.existsSync(`${local}/2/READY`));
    expect(seen.sort()).toEqual(['2/READY: 2/ absent', '2/lineage.json: 2/ absent', '2/saved_model.pb: 2/ absent']);
    expect(f.tree('models/churn')).toMatchObject({ '1/saved_model.pb': 'model one', '2/saved_model.pb': 'model two', '2/READY': '' });
    expect(sync.output()).toContain(`registry: version 2 of s3://ml-models/registry/churn is in ${local}/2`);
    // Only integer folders remain: no staging folder is left behind.
    expect(fs.readdirSync(local).sort()).toEqual(['1', '2']);
  });

  test('baseline takes the lineage of the newest ready version only; nothing before the first', async () => {
    const none = await f.run(['baseline', `${f.dir}/baseline/churn`]);
    expect(none).toMatchObject({ code: 0, stdout: 'registry: no ready version in s3://ml-models/registry/churn: no baseline yet\n' });
    seed(1, 'model one');
    seed(2, 'model two');
    seed(3, 'model three', false);
    const r = await f.run(['baseline', `${f.dir}/baseline/churn`]);
    expect(r.code).toBe(0);
    expect(f.tree('baseline')).toEqual({ 'churn/2/READY': '', 'churn/2/lineage.json': '{"version":2,"metrics":{"auc":0.9}}' });
  });
});

/** Waits until `check` holds, looking every 100 ms, for at most 60 s. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting');
}

describe('registry-s3.sh when the store refuses', () => {
  test('a pull with a key the store does not know fails with the store\'s error, not "no ready version" (the Job retries it)', async () => {
    seed(1, 'model one');
    const r = await f.run(['pull', `${f.dir}/models/churn`, '', 'fail'], { AWS_ACCESS_KEY_ID: 'AKIAWRONG' });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(3);
    expect(r.stderr).toContain('InvalidAccessKeyId');
    expect(r.stderr).not.toContain('no ready version');
    expect(f.tree('models')).toEqual({});
  });
});
