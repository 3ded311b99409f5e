import { simulate } from '../../src/verify/simulator';
import { dag, expectClean, synthPipeline } from './fixtures';

/**
 * A refusal that repeats on every call (a deleted Role, a wrong namespace) must end the run
 * with a message that names the missing permission; an outage (5xx, the API server not
 * listening) must not: the coordinator retries it on every poll.
 */
describe('permanent API errors end the run, transient ones are retried', () => {
  const steps = dag('a->b->c');

  test('the Role deleted mid-run: the next lists are refused, exit 5 names the Role, the Job fails at once', async () => {
    const objects = synthPipeline({ steps });
    const role = objects.find((o) => o.kind === 'Role')!.metadata.name;
    const r = await simulate(objects, { faults: { deleteObjects: [{ at: 15, kind: 'Role', name: role }] } });
    expect(r.ok).toBe(false);
    // b was released at t=10, before the Role went at t=15, and still ran to completion.
    expect([r.steps.a.outcome, r.steps.b.outcome, r.steps.c.outcome]).toEqual(['complete', 'complete', 'waiting']);
    expect(r.exitCode).toBe(5);
    expect(r.coordinator.outcome).toBe('Failed: PodFailurePolicy');
    expect(r.coordinator.runs).toHaveLength(1);
    expect(r.coordinator.stderr).toContain(
      `error: the coordinator's service account may not list jobs.batch in namespace ml (5 list calls refused in a row); check that Role ${role} and RoleBinding ${role} exist in namespace ml and grant it: `
      + `Error from server (Forbidden): jobs.batch is forbidden: User "system:serviceaccount:ml:demo-coordinator" cannot list resource "jobs" in API group "batch" in the namespace "ml": RBAC: role.rbac.authorization.k8s.io "${role}" not found`,
    );
    // Five refused lists, one per poll (t=20..60), then the exit: not a day of polling.
    expect(r.endedAt).toBe(60);
  });

  test('a wrong namespace: every list is refused there, exit 5 names that namespace', async () => {
    const r = await simulate(synthPipeline({ steps }), { env: { MLOPS_NAMESPACE: 'ml-other' } });
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(5);
    expect(r.coordinator.stderr).toContain("error: the coordinator's service account may not list jobs.batch in namespace ml-other (5 list calls refused in a row)");
    expect(Object.values(r.steps).every((s) => s.pods.length === 0)).toBe(true);
  });

  test('server errors on more polls in a row than the refusal limit are retried, and the run completes', async () => {
    const r = await simulate(synthPipeline({ steps }), {
      faults: { failKubectl: [{ at: 10, verb: 'list', times: 7 }, { at: 10, verb: 'patch', times: 2 }] },
      // The harness would otherwise call seven polls without a release a stall.
      stallPolls: 12,
    });
    expectClean(r);
    expect(r.calls.filter((c) => c.injected).map((c) => c.request?.verb)).toEqual([...Array(7).fill('list'), 'patch', 'patch']);
    expect(r.coordinator.stderr).toContain('Error from server (InternalError): Internal error occurred: the cdk8s-mlops simulator injected a server error into this list');
    expect(r.exitCode).toBe(0);
    expect(r.coordinator.runs).toHaveLength(1);
  });

  test('the API server down for two minutes (connection refused): retried on every poll, the run completes', async () => {
    const r = await simulate(synthPipeline({ steps }), { faults: { apiServerDown: [{ at: 5, for: 120 }] }, stallPolls: 20 });
    expectClean(r);
    const refused = r.calls.filter((c) => c.tool === 'kubectl' && c.exitCode !== 0);
    expect(refused.length).toBeGreaterThanOrEqual(12);
    expect(refused.every((c) => c.requests!.length === 0 && /The connection to the server 127\.0\.0\.1:\d+ was refused/.test(c.stderr))).toBe(true);
    expect(r.steps.b.releasedAt).toBeGreaterThanOrEqual(125);
    expect(r.exitCode).toBe(0);
  });
});
