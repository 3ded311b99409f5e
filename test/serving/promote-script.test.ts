import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { apiFixture, realKubectl } from '../support/kubectl';
import { K8sObject, synth } from '../support/synth';
import { promotedPipeline } from './promote-fixtures';

/**
 * The promotion script run for real: bash, coreutils, jq and the real kubectl against the
 * simulated API server holding the synthesized objects, authenticated as the promotion's
 * ServiceAccount (so the synthesized Role decides what it may do). The workspace and the
 * registry are sandbox folders. A shim in front of `mv` records what the staging folder
 * holds at the rename, and can play a concurrent run that takes the chosen number first.
 */
const SCRIPT = path.join(__dirname, '..', '..', 'assets', 'promote.sh');
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const SAME_SECOND = 'error: failed to create patch for churn-server: if restart has already been triggered within the past second, please wait before attempting to trigger another\n';

interface World {
  objects: K8sObject[];
  job: K8sObject;
  sandbox: string;
  registry: string;
  f: Awaited<ReturnType<typeof apiFixture>>;
}

async function world(runId?: string): Promise<World> {
  const objects = synth((app) => { promotedPipeline(app, { runId }); }).objects;
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step'] === 'promote')!;
  const f = await apiFixture(objects as any, { namespace: 'ml', name: 'churn-promote' });
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-promote-'));
  const registry = path.join(sandbox, 'registry');
  fs.mkdirSync(registry);
  return { objects, job, sandbox, registry, f };
}

/** What the training and evaluation steps of one run wrote: the model folder and metrics.json. */
function trainedModel(w: World, run: string, auc: number): { model: string; metrics: string } {
  const model = path.join(w.sandbox, 'workspace', run, 'train-0a1b2c3d', 'model');
  const metrics = path.join(w.sandbox, 'workspace', run, 'evaluate', 'metrics');
  fs.mkdirSync(path.join(model, 'variables'), { recursive: true });
  fs.writeFileSync(path.join(model, 'saved_model.pb'), `model of ${run}`);
  fs.writeFileSync(path.join(model, 'variables', 'variables.index'), 'weights');
  fs.mkdirSync(metrics, { recursive: true });
  fs.writeFileSync(path.join(metrics, 'metrics.json'), JSON.stringify({ auc, logloss: 0.3 }));
  return { model, metrics };
}

interface Promotion { code: number; stdout: string; stderr: string; renames: string[] }

async function promote(w: World, input: { model: string; metrics: string }, options: { steal?: boolean } = {}): Promise<Promotion> {
  const env = Object.fromEntries(w.job.spec.template.spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-promote-bin-'));
  const log = path.join(bin, 'renames.log');
  fs.symlinkSync(realKubectl().path, path.join(bin, 'kubectl'));
  // mv -T <staging> <version>: record the staging folder's files, and (steal) let another run
  // publish that version number first, as a concurrent promotion would.
  fs.writeFileSync(path.join(bin, 'mv'), [
    '#!/bin/bash',
    `echo "$3 <- $(cd "$2" && find . -type f | sort | paste -sd ' ')" >>${log}`,
    options.steal ? `if [[ ! -e ${bin}/stolen ]]; then mkdir -p "$3" && echo other >"$3/saved_model.pb" && touch ${bin}/stolen; fi` : '',
    'exec /usr/bin/mv "$@"',
  ].join('\n'), { mode: 0o755 });
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('/bin/bash', [SCRIPT], {
      env: {
        ...env,
        MLOPS_INPUT_MODEL: input.model,
        MLOPS_INPUT_METRICS: input.metrics,
        MLOPS_REGISTRY_MODEL: path.join(w.registry, 'churn'),
        MLOPS_SELF: w.job.metadata.name,
        HOSTNAME: `${w.job.metadata.name}-x7k2p`,
        HOME: w.f.home,
        KUBECONFIG: w.f.config,
        PATH: `${bin}:/usr/bin:/bin`,
      },
    }, (e, stdout, stderr) => resolve({ code: e ? Number((e as any).code ?? 1) : 0, stdout, stderr }));
  });
  const renames = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  fs.rmSync(bin, { recursive: true, force: true });
  return { ...result, renames };
}

/** A Deployment as the API server stores it (read from the store: the promotion may read only its own). */
function deployment(w: World, name: string): K8sObject {
  return JSON.parse(JSON.stringify(w.f.cluster.objects().find((o) => o.kind === 'Deployment' && o.metadata.name === name)));
}

function lineage(w: World, version: number): K8sObject {
  return JSON.parse(fs.readFileSync(path.join(w.registry, 'churn', String(version), 'lineage.json'), 'utf8'));
}

function close(w: World): void {
  w.f.close();
  fs.rmSync(w.sandbox, { recursive: true, force: true });
}

describe('the promotion script, with real bash, jq and kubectl, as the promotion ServiceAccount', () => {
  test('publishes version 1 whole (READY after the rename) with its lineage, and restarts only the image server', async () => {
    const w = await world('run-7');
    try {
      const tfBefore = deployment(w, 'churn-tf');
      const r = await promote(w, trainedModel(w, 'run-7', 0.91));
      expect(r).toMatchObject({ stderr: '', code: 0 });
      const version = path.join(w.registry, 'churn', '1');
      // At the rename the staging folder held the model and the lineage, not READY.
      expect(r.renames).toEqual([`${version} <- ./lineage.json ./saved_model.pb ./variables/variables.index`]);
      expect(fs.readdirSync(version).sort()).toEqual(['READY', 'lineage.json', 'saved_model.pb', 'variables']);
      expect(fs.readdirSync(path.join(w.registry, 'churn'))).toEqual(['1']);
      const l = lineage(w, 1);
      expect(l).toEqual({
        model: 'churn',
        version: 1,
        publishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        run: { pipeline: 'churn', id: 'run-7', job: w.job.metadata.name, stepHash: w.job.metadata.name.split('-').pop() },
        source: { path: path.join(w.sandbox, 'workspace', 'run-7', 'train-0a1b2c3d', 'model') },
        metrics: { auc: 0.91, logloss: 0.3 },
        gate: { step: 'evaluate-gate', verdict: 'approved', thresholds: [{ metric: 'auc', op: '>=', value: 0.8 }, { metric: 'auc', op: '>=', tolerance: 0.01 }] },
        baseline: { version: null, note: 'the latest ready version when this one was published' },
      });
      expect(r.stdout).toContain('promote: published');
      expect(r.stdout).toContain('promote: told: restart deployment/churn-server');
      const server = deployment(w, 'churn-server');
      expect(Object.keys(server.spec.template.metadata.annotations ?? {})).toEqual([RESTARTED_AT]);
      expect(server.metadata.generation).toBe(2);
      // TensorFlow Serving polls its folder: its Deployment is not touched.
      expect(deployment(w, 'churn-tf')).toEqual(tfBefore);
      // kubectl GETs, then PATCHes, the one Deployment the Role names.
      const writes = w.f.requests.filter((q) => q.url.includes('/deployments/') && q.url.includes('churn-server'));
      expect(writes.map((q) => `${q.verb} ${q.code}`)).toEqual(['get 200', 'patch 200']);
    } finally {
      close(w);
    }
  });

  test('a second run publishes version 2 with version 1 as its baseline; the same run again publishes nothing', async () => {
    const w = await world();
    try {
      const first = trainedModel(w, 'run-1', 0.9);
      expect(await promote(w, first)).toMatchObject({ code: 0, stderr: "" });
      const second = await promote(w, trainedModel(w, 'run-2', 0.93));
      expect(second.code).toBe(0);
      // Within a second of the first restart kubectl refuses another; the script tries again a second later.
      expect(['', SAME_SECOND]).toContain(second.stderr);
      expect(lineage(w, 2).baseline.version).toBe(1);
      expect(lineage(w, 2).metrics.auc).toBe(0.93);
      const again = await promote(w, first);
      expect(again.code).toBe(0);
      expect(['', SAME_SECOND]).toContain(again.stderr);
      expect(again.renames).toEqual([]);
      expect(again.stdout).toContain(`promote: ${first.model} is version 1 of churn already; nothing new to publish`);
      expect(fs.readdirSync(path.join(w.registry, 'churn')).sort()).toEqual(['1', '2']);
    } finally {
      close(w);
    }
  });

  test('a concurrent run that takes the chosen number first: the rename fails and the next number is used', async () => {
    const w = await world();
    try {
      const r = await promote(w, trainedModel(w, 'run-1', 0.9), { steal: true });
      expect(r.code).toBe(0);
      const base = path.join(w.registry, 'churn');
      expect(r.renames.map((line) => line.split(' <- ')[0])).toEqual([path.join(base, '1'), path.join(base, '2')]);
      // The other run's version is left as it was; ours is version 2, ready, with its own version number.
      expect(fs.readFileSync(path.join(base, '1', 'saved_model.pb'), 'utf8')).toBe('other\n');
      expect(fs.existsSync(path.join(base, '2', 'READY'))).toBe(true);
      expect(lineage(w, 2).version).toBe(2);
      expect(fs.readdirSync(base).filter((n) => n.startsWith('.staging'))).toEqual([]);
    } finally {
      close(w);
    }
  });

  test('a failed restart fails the Job after publishing; its retry publishes nothing new and restarts again', async () => {
    const w = await world();
    try {
      w.f.cluster.deleteObject('Deployment', 'ml', 'churn-server');
      const input = trainedModel(w, 'run-1', 0.9);
      const failed = await promote(w, input);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(`promote: version 1 of churn is published, but 'restart deployment/churn-server' failed; the Job retries it`);
      expect(failed.stderr).toContain('deployments.apps "churn-server" not found');
      w.f.cluster.apply(w.objects.filter((o) => o.kind === 'Deployment') as any);
      const retry = await promote(w, input);
      expect(retry.code).toBe(0);
      expect(retry.renames).toEqual([]);
      expect(fs.readdirSync(path.join(w.registry, 'churn'))).toEqual(['1']);
      expect((deployment(w, 'churn-server')).spec.template.metadata.annotations).toHaveProperty([RESTARTED_AT]);
    } finally {
      close(w);
    }
  });

  test('the Role names its Deployments: the promotion ServiceAccount cannot restart another server', async () => {
    const w = await world();
    try {
      const other = await w.f.run('rollout', 'restart', 'deployment/churn-tf', '-n', 'ml');
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('deployments.apps "churn-tf" is forbidden: User "system:serviceaccount:ml:churn-promote" cannot get resource "deployments" in API group "apps"');
    } finally {
      close(w);
    }
  });

  test('refuses, publishing nothing, an empty model folder or a model holding READY', async () => {
    const w = await world();
    try {
      const input = trainedModel(w, 'run-1', 0.9);
      fs.writeFileSync(path.join(input.model, 'READY'), '');
      const reserved = await promote(w, input);
      expect(reserved.code).toBe(1);
      expect(reserved.stderr).toBe(`promote: the model's folder holds 'READY', a name the registry reserves for itself; rename that file in the training step\n`);
      fs.rmSync(input.model, { recursive: true });
      fs.mkdirSync(input.model);
      const empty = await promote(w, input);
      expect(empty.stderr).toBe(`promote: the approved model's folder ${input.model} is missing or empty: the training step must write its model there\n`);
      expect(fs.existsSync(path.join(w.registry, 'churn'))).toBe(false);
    } finally {
      close(w);
    }
  });
});
