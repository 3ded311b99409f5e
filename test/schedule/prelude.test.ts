import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ContainerStep, Dataset, Pipeline } from '../../src';
import { findOne, synth } from '../support/synth';

/**
 * The run prelude (assets/start-run.sh) exactly as synthesized into the ConfigMap, run in
 * bash with real sed, jq and sha256sum. Until the loopback API server of the simulator
 * serves `create`, `kubectl` here is a small stand-in keeping Jobs as files. It answers as
 * the API server does: a second create of one name fails with AlreadyExists
 * (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go Create), printed by
 * kubectl as `Error from server (AlreadyExists): ...` (staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go).
 */
const STANDIN_KUBECTL = `#!/bin/bash
# kubectl create -f FILE -n NS -o name
set -u
[[ "$1" == create ]] || { echo "stand-in: unexpected kubectl $*" >&2; exit 1; }
file=$3
echo "$*" >> "$STORE/calls"
if [[ -e "$STORE/fail" ]]; then msg=$(cat "$STORE/fail"); rm -f "$STORE/fail"; echo "$msg" >&2; exit 1; fi
rc=0
while IFS= read -r item; do
  name=$(jq -r .metadata.name <<<"$item")
  if [[ -e "$STORE/jobs/$name" ]]; then
    echo "Error from server (AlreadyExists): error when creating \\"$file\\": jobs.batch \\"$name\\" already exists" >&2; rc=1
  else
    printf '%s' "$item" > "$STORE/jobs/$name"; echo "job.batch/$name"
  fi
done < <(jq -c '.items[]' "$file")
exit $rc
`;

function pipelineMap(reuseIngest: boolean): Record<string, string> {
  const { objects } = synth((app) => {
    const p = new Pipeline(app, 'nightly', { namespace: 'ml', defaults: { image: 'busybox:1.36' }, schedule: { cron: '0 2 * * *' } });
    const ingest = new ContainerStep(p, 'ingest', { outputs: { raw: Dataset } });
    new ContainerStep(p, 'train', { inputs: { raw: ingest.outputs.raw } });
    if (reuseIngest) p.reuseAcrossRuns(ingest);
  });
  return findOne(objects, 'ConfigMap').data;
}

/** A pod's view: the ConfigMap mounted at etc/, a store for the stand-in API, and a stub coordinate.sh. */
function pod(data: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'mlops-prelude-'));
  const etc = join(root, 'etc');
  const bin = join(root, 'bin');
  const store = join(root, 'store');
  for (const d of [etc, bin, join(store, 'jobs'), join(root, 'home')]) mkdirSync(d, { recursive: true });
  for (const [k, v] of Object.entries(data)) writeFileSync(join(etc, k), v);
  // What the prelude hands over to: records the plan it was given.
  writeFileSync(join(etc, 'coordinate.sh'), 'cp "$MLOPS_PLAN" "$STORE/handed-plan"; echo coordinating\n');
  writeFileSync(join(bin, 'kubectl'), STANDIN_KUBECTL);
  writeFileSync(join(bin, 'sleep'), '#!/bin/bash\necho "slept $1" >> "$STORE/calls"\n');
  chmodSync(join(bin, 'kubectl'), 0o755);
  chmodSync(join(bin, 'sleep'), 0o755);
  const run = (runName: string) => spawnSync('bash', [join(etc, 'start-run.sh')], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`, STORE: store, HOME: join(root, 'home'),
      MLOPS_NAMESPACE: 'ml', MLOPS_PIPELINE: 'nightly', MLOPS_SELF: runName, MLOPS_RUN_UID: `uid-of-${runName}`,
      MLOPS_RUN_TEMPLATES: join(etc, 'jobs'), MLOPS_PLAN: join(etc, 'plan'), MLOPS_POLL_SECONDS: '5',
    },
  });
  const jobs = () => Object.fromEntries(readdirSync(join(store, 'jobs')).sort().map((n) => [n, JSON.parse(readFileSync(join(store, 'jobs', n), 'utf8'))]));
  return { run, jobs, store };
}

const hash8 = (run: string) => createHash('sha256').update(run).digest('hex').slice(0, 8);

describe('the run prelude creates a run\'s Jobs, then coordinates them', () => {
  test('names them after the run id, owned by the run\'s coordinator Job, and hands over the filled plan', () => {
    const { run, jobs, store } = pod(pipelineMap(false));
    const r = run('nightly-29412345');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('starting run nightly-29412345 of pipeline nightly in namespace ml: 2 Jobs\ncreated the run\'s Jobs\ncoordinating\n');
    const h = hash8('nightly-29412345');
    const created = jobs();
    expect(Object.keys(created)).toEqual([`nightly-ingest-${h}`, `nightly-train-${h}`]);
    const train = created[`nightly-train-${h}`];
    expect(train.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'nightly-29412345', uid: 'uid-of-nightly-29412345' }]);
    expect(train.metadata.labels['mlops.cdk8s.io/run']).toBe('nightly-29412345');
    expect(train.spec.template.metadata.labels['mlops.cdk8s.io/run']).toBe('nightly-29412345');
    expect(train.spec.template.spec.containers[0].env).toContainEqual({ name: 'MLOPS_INPUT_RAW', value: '/mnt/workspace/nightly/runs/nightly-29412345/ingest/raw' });
    expect(readFileSync(join(store, 'handed-plan'), 'utf8')).toBe(`ingest\tnightly-ingest-${h}\t-\ntrain\tnightly-train-${h}\tingest\n`);
  });

  test('a restarted coordinator of the same run gets AlreadyExists and coordinates the same Jobs', () => {
    const { run, jobs, store } = pod(pipelineMap(false));
    run('nightly-29412345');
    const first = jobs();
    const again = run('nightly-29412345');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('created the run\'s Jobs (2 existed already: a restarted coordinator, or a Job reused across runs)\ncoordinating\n');
    expect(jobs()).toEqual(first);
    const h = hash8('nightly-29412345');
    expect(readFileSync(join(store, 'handed-plan'), 'utf8')).toBe(`ingest\tnightly-ingest-${h}\t-\ntrain\tnightly-train-${h}\tingest\n`);
  });

  test('two runs get their own Jobs and folders; a step reused across runs is shared and owned by neither', () => {
    const { run, jobs } = pod(pipelineMap(true));
    run('nightly-29412345');
    run('nightly-manual-1');
    const created = jobs();
    const shared = Object.keys(created).filter((n) => n.startsWith('nightly-ingest-'));
    expect(shared).toHaveLength(1);
    expect(created[shared[0]].metadata.ownerReferences).toBeUndefined();
    expect(created[shared[0]].metadata.labels['mlops.cdk8s.io/run']).toBeUndefined();
    const trains = [hash8('nightly-29412345'), hash8('nightly-manual-1')].map((h) => created[`nightly-train-${h}`]);
    expect(trains.map((j) => j.metadata.ownerReferences[0].name)).toEqual(['nightly-29412345', 'nightly-manual-1']);
    expect(trains.map((j) => j.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MLOPS_INPUT_RAW').value))
      .toEqual([`/mnt/workspace/nightly/${shared[0].slice('nightly-'.length)}/raw`, `/mnt/workspace/nightly/${shared[0].slice('nightly-'.length)}/raw`]);
  });

  test('a failed create is retried after a poll; a forbidden one stops with exit code 5 naming the permission', () => {
    const { run, jobs, store } = pod(pipelineMap(false));
    writeFileSync(join(store, 'fail'), 'Unable to connect to the server: dial tcp 10.96.0.1:443: i/o timeout');
    const r = run('nightly-29412345');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('warning: creating the run\'s Jobs failed, trying again in 5s: Unable to connect to the server: dial tcp 10.96.0.1:443: i/o timeout\n');
    expect(readFileSync(join(store, 'calls'), 'utf8').split('\n').filter((l) => l.startsWith('slept'))).toEqual(['slept 5']);
    expect(Object.keys(jobs())).toHaveLength(2);

    const denied = pod(pipelineMap(false));
    writeFileSync(join(denied.store, 'fail'), 'Error from server (Forbidden): error when creating "/tmp/run/jobs.json": jobs.batch is forbidden: User "system:serviceaccount:ml:nightly-coordinator" cannot create resource "jobs" in API group "batch" in the namespace "ml"');
    const d = denied.run('nightly-29412345');
    expect(d.status).toBe(5);
    expect(d.stderr).toContain('error: the coordinator may not create the run\'s objects (its Role needs create on batch/jobs, and with gates on '
      + 'rbac.authorization.k8s.io roles and rolebindings): Error from server (Forbidden)');
  });
});
