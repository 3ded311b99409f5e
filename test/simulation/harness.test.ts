import { simulate } from '../../src/verify/simulator';
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
    const objects = withScript(synthPipeline({ steps }), (sh) => sh.replace('elif $slots <= 0 or $groupFull then $s', 'elif true then $s'));
    const r = await simulate(objects);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual(['the coordinator stalled: step a is ready (every upstream complete) but was never released, still after 5 polls']);
    expect(r.endedAt).toBe(40);
  });

  test('a decision program that ignores upstream state is caught starting steps too early', async () => {
    const objects = withScript(synthPipeline({ steps }), (sh) => sh.replace('elif all($ups[]; .state == "complete")', 'elif true'));
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

  /** The Role as synthesized, with one verb taken out of the rule that names the pipeline's Jobs. */
  const without = (verb: string) =>
    edit(synthPipeline({ steps }), 'Role', (role) => {
      const named = role.rules.find((x: any) => x.resourceNames);
      expect(named.verbs).toContain(verb);
      named.verbs = named.verbs.filter((v: string) => v !== verb);
    });

  test('a Role without get: kubectl patch GETs the Job first, so no step is released; the coordinator exits 5 naming get', async () => {
    const r = await simulate(without('get'));
    expect(r.ok).toBe(false);
    expect(Object.values(r.steps).map((s) => s.outcome)).toEqual(['waiting', 'waiting', 'waiting']);
    expect(r.errors.join('\n')).toMatch(
      /the API refused the coordinator's call `kubectl patch job demo-a-\w+ -n ml --type=merge -p {"spec":{"suspend":false}}` at t=0s \(and 4 more times\): Error from server \(Forbidden\): jobs\.batch "demo-a-\w+" is forbidden: User "system:serviceaccount:ml:demo-coordinator" cannot get resource "jobs" in API group "batch" in the namespace "ml"/,
    );
    // The real client stopped at the GET: no PATCH ever reached the API server.
    const patchCalls = r.calls.filter((c) => c.argv[0] === 'patch');
    expect(patchCalls).toHaveLength(5);
    expect(patchCalls.flatMap((c) => c.requests!.map((q) => `${q.verb} ${q.code}`))).toEqual(patchCalls.map(() => 'get 403'));
    // A permanent refusal is not retried until the run deadline: exit 5, the Job fails at once.
    expect(r.exitCode).toBe(5);
    expect(r.coordinator.outcome).toBe('Failed: PodFailurePolicy');
    expect(r.coordinator.runs).toHaveLength(1);
    expect(r.endedAt).toBe(40);
    expect(r.coordinator.stderr).toMatch(
      /error: the coordinator's service account may not get jobs\.batch in namespace ml \(5 patch calls refused in a row\); check that Role (demo-coordinator-\w+) and RoleBinding \1 exist in namespace ml and grant it: Error from server \(Forbidden\)/,
    );
  });

  test('a Role without patch: the GET passes, the PATCH is refused; exit 5 naming patch', async () => {
    const r = await simulate(without('patch'));
    expect(r.ok).toBe(false);
    expect(Object.values(r.steps).map((s) => s.outcome)).toEqual(['waiting', 'waiting', 'waiting']);
    expect(r.errors.join('\n')).toContain('cannot patch resource "jobs" in API group "batch" in the namespace "ml"');
    const patchCalls = r.calls.filter((c) => c.argv[0] === 'patch');
    expect(patchCalls.flatMap((c) => c.requests!.map((q) => `${q.verb} ${q.code}`))).toEqual(patchCalls.flatMap(() => ['get 200', 'patch 403']));
    expect(r.exitCode).toBe(5);
    expect(r.coordinator.stderr).toContain("error: the coordinator's service account may not patch jobs.batch in namespace ml (5 patch calls refused in a row)");
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
