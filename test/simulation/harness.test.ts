import { simulate } from '../../src/verify/simulator';
import { Cluster } from '../../src/verify/simulator/cluster';
import { kubectl } from '../../src/verify/simulator/kubectl';
import { mergePatch } from '../../src/verify/simulator/merge-patch';
import { dag, edit, synthPipeline, withScript } from './fixtures';

const steps = dag('a->b->c');

describe('the harness catches a coordinator that does not keep the contract', () => {
  test('a syntax error: every restart crashes, the coordinator Job fails, nothing runs', async () => {
    const objects = withScript(synthPipeline({ steps }), (sh) => sh.replace('while :; do', 'while :; do\n  if true; then'));
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toMatch(
      /^coordinator run #0 exited with code 2 at t=0s \(and 6 more times\); its stderr ends: \/etc\/mlops\/coordinate\.sh: line \d+: syntax error near unexpected token `done'$/,
    );
    expect(r.errors[1]).toBe('the coordinator Job failed (BackoffLimitExceeded) after 7 run(s)');
    expect(r.coordinator.runs.map((x) => x.exitCode)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(Object.values(r.steps).every((s) => s.pods.length === 0)).toBe(true);
  });

  test('a decision program that releases nothing is stopped as stalled, naming the ready step', async () => {
    const objects = withScript(synthPipeline({ steps }), (sh) => sh.replace('elif $s.state == "waiting" and .free > 0', 'elif false'));
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual(['the coordinator stalled: step a is ready (every upstream complete) but was never released, still after 5 polls']);
    expect(r.endedAt).toBe(40);
  });

  test('a decision program that ignores upstream state is caught starting steps too early', async () => {
    const objects = withScript(synthPipeline({ steps }), (sh) => sh.replace('all($s.up[]; $acc.by[.].state == "complete")', 'true'));
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors).toContain('step b started at t=0s before its upstream a completed (at t=10s)');
    expect(r.errors).toContain('step c started at t=0s before its upstream b completed (at t=10s)');
  });

  test('a plan out of topological order is the script\'s own error: exit 2, retried, then the Job fails', async () => {
    const objects = edit(synthPipeline({ steps }), 'ConfigMap', (cm) => (cm.data.plan = cm.data.plan.split('\n').reverse().join('\n')), true);
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatch(/^coordinator run #0 exited with code 2 at t=0s.*: jq: error \(at <stdin>:\d+\): plan lists step c before its upstream b/);
    expect(r.coordinator.stderr).toContain('error: the decision program failed on this Job list');
    expect(r.coordinator.outcome).toBe('Failed: BackoffLimitExceeded');
  });

  test('a Role without patch: the API refuses the release and the harness reports it', async () => {
    const objects = edit(synthPipeline({ steps }), 'Role', (role) => (role.rules = role.rules.filter((x: any) => !x.verbs.includes('patch'))));
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toBe('the coordinator stalled: step a is ready (every upstream complete) but was never released, still after 5 polls');
    expect(r.errors[1]).toMatch(
      /^the API refused the coordinator's call `kubectl patch job demo-a-\w+ -n ml --type=merge -p {"spec":{"suspend":false}}` at t=0s \(and 4 more times\): Error from server \(Forbidden\): jobs\.batch "demo-a-\w+" is forbidden: User "system:serviceaccount:ml:demo-coordinator" cannot patch resource "jobs" in API group "batch" in the namespace "ml"$/,
    );
  });

  test('a coordinator pod without a ServiceAccount token cannot reach the API', async () => {
    const objects = edit(synthPipeline({ steps }), 'Job', (job) => (job.spec.template.spec.automountServiceAccountToken = false), true);
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors.join('\n')).toContain('The connection to the server localhost:8080 was refused');
  });

  test('a coordinator container without a command would run the image entrypoint: refused up front', async () => {
    const objects = edit(synthPipeline({ steps }), 'Job', (job) => delete job.spec.template.spec.containers[0].command, true);
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toContain('sets no command');
  });

  test('no coordinator at all', async () => {
    const r = await simulate(synthPipeline({ steps }).filter((o) => o.kind !== 'Job'));
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatch(/^cannot start the coordinator: no coordinator Job/);
  });

  test('options naming an unknown step are refused', async () => {
    const r = await simulate(synthPipeline({ steps }), { steps: { trian: { exitCodes: [1] } } });
    expect(r.errors[0]).toContain('options.steps names "trian", which is not a step of pipeline demo (a, b, c)');
  });
});

describe('the simulated kubectl answers like the real one', () => {
  const objects = synthPipeline({ steps });
  const jobName = (step: string) => objects.find((o) => o.metadata.labels?.['mlops.cdk8s.io/step'] === step)!.metadata.name;
  function setup() {
    const cluster = new Cluster({ epoch: 1_700_000_000, namespace: 'ml', podStartSeconds: 0, behaviour: () => ({ durations: [10] }) });
    cluster.apply(objects);
    const run = (...argv: string[]) =>
      kubectl({ cluster, identity: { namespace: 'ml', serviceAccount: 'demo-coordinator' }, hasToken: true, inject: () => false }, argv);
    return { cluster, run };
  }

  test('get jobs -l ... -o json prints a List of Jobs as the API server stores them', () => {
    const { cluster, run } = setup();
    run('patch', 'job', jobName('a'), '-n', 'ml', '--type=merge', '-p', '{"spec":{"suspend":false}}');
    cluster.step(1_700_000_004);
    const r = run('get', 'jobs', '-n', 'ml', '-l', 'mlops.cdk8s.io/pipeline=demo', '-o', 'json');
    expect(r.exitCode).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' } });
    expect(list.items).toHaveLength(4);
    const a = list.items.find((i: any) => i.metadata.name === jobName('a'));
    expect(a).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { namespace: 'ml', creationTimestamp: '2023-11-14T22:13:20Z', labels: { 'mlops.cdk8s.io/step': 'a' } },
      spec: { suspend: false, backoffLimit: 0, completions: 1, parallelism: 1, completionMode: 'NonIndexed' },
      status: {
        active: 1,
        ready: 1,
        startTime: '2023-11-14T22:13:20Z',
        conditions: [{ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }],
      },
    });
    expect(a.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('"suspend":true');
    const b = list.items.find((i: any) => i.metadata.name === jobName('b'));
    expect(b.status.conditions).toEqual([expect.objectContaining({ type: 'Suspended', status: 'True', reason: 'JobSuspended' })]);
    expect(b.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('a');
    cluster.step(1_700_000_010);
    const done = JSON.parse(run('get', 'jobs', '-n', 'ml', '-l', 'mlops.cdk8s.io/step=a', '-o', 'json').stdout).items[0];
    expect(done.status).toMatchObject({ succeeded: 1, completionTime: '2023-11-14T22:13:30Z' });
    expect(done.status.conditions.map((c: any) => [c.type, c.status])).toEqual([['Suspended', 'False'], ['Complete', 'True']]);
  });

  test('patch applies a merge patch, says so, and null deletes', () => {
    const { cluster, run } = setup();
    const name = jobName('b');
    expect(run('patch', 'job', name, '-n', 'ml', '--type=merge', '-p', '{"metadata":{"annotations":{"x":"1"}}}')).toMatchObject({ exitCode: 0, stdout: `job.batch/${name} patched\n` });
    expect(run('patch', `job/${name}`, '-n', 'ml', '--type', 'merge', '-p', '{"metadata":{"annotations":{"x":"1"}}}').stdout).toBe(`job.batch/${name} patched (no change)\n`);
    run('patch', 'jobs.batch', name, '--namespace=ml', '--type=merge', '--patch={"metadata":{"annotations":{"x":null}}}');
    expect(cluster.job('ml', name)!.obj.metadata.annotations!.x).toBeUndefined();
  });

  test('errors read like the API server and kubectl', () => {
    const { run } = setup();
    expect(run('patch', 'job', jobName('a'), '-n', 'ml', '--type=merge', '-p', '{"spec":{"backoffLimit":9}}')).toMatchObject({
      exitCode: 1,
      stderr: `The Job "${jobName('a')}" is invalid: spec.backoffLimit: Invalid value: 9: field is immutable\n`,
    });
    expect(run('patch', 'job', 'other', '-n', 'ml', '--type=merge', '-p', '{}')).toMatchObject({
      exitCode: 1,
      denied: true,
      stderr: 'Error from server (Forbidden): jobs.batch "other" is forbidden: User "system:serviceaccount:ml:demo-coordinator" cannot patch resource "jobs" in API group "batch" in the namespace "ml"\n',
    });
    expect(run('get', 'job', jobName('a'), '-n', 'ml', '-o', 'json').stderr).toContain('cannot get resource "jobs"');
    expect(run('get', 'pods', '-n', 'ml', '-o', 'json').stderr).toContain('cannot list resource "pods" in API group ""');
    expect(run('get', 'jobs', '-A', '-o', 'json').stderr).toContain('at the cluster scope');
    expect(run('get', 'jobs', '-n', 'ml', '-o', 'yaml').stderr).toBe('error: the cdk8s-mlops simulator does not model kubectl get output "yaml"; use -o json\n');
    expect(run('delete', 'job', 'x').stderr).toContain('does not model "kubectl delete"');
    expect(run('frobnicate').stderr).toBe('error: unknown command "frobnicate" for "kubectl"\n');
    expect(run('get', 'jobs', '--bogus').stderr).toContain('error: unknown flag: --bogus');
    expect(run('patch', 'job', jobName('a'), '-n', 'ml', '-p', '{"spec":').stderr).toMatch(/^error: unable to parse/);
    expect(run('patch', 'job', jobName('a'), '-n', 'ml', '--type=merge', '-p', '{"spec":{"suspend":"false"}}').stderr).toContain('cannot unmarshal string');
  });

  test('merge patch follows RFC 7386', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3] });
    expect(mergePatch({ a: 1 }, 'x')).toBe('x');
  });
});
