import { spawnSync } from 'child_process';
import { coordinatorScript } from '../../src/backends/plain/assets';
import { decisionDefinitions, decisionProgram, readLedger, runDecision, simulate } from '../../src/verify/simulator';
import { dag, expectClean, synthPipeline } from './fixtures';

/** Evaluate a jq expression after the decision program's own definitions (the script's text). */
function jqWithScript(expression: string, args: Record<string, unknown>): any {
  const argv = ['-n', '-c', ...Object.entries(args).flatMap(([k, v]) => ['--argjson', k, JSON.stringify(v)]), `${decisionDefinitions(coordinatorScript())}${expression}`];
  const p = spawnSync('jq', argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (p.status !== 0) throw new Error(`jq failed: ${p.stderr}`);
  return JSON.parse(p.stdout);
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('the ledger: bounded, whatever the names, and read back after restarts and TTL', () => {
  test('the script encodes every state of every position and decodes it back; the simulator reads it the same way', () => {
    const codes = Array.from({ length: 101 }, (_, i) => (i * 7 + (i >> 3)) % 5);
    const { text, back } = jqWithScript('($codes | ledger_encode) as $t | {text: $t, back: ($t | ledger_decode)}', { codes });
    // Two positions per character; the trailing unrecorded position is left out.
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    const top = codes.map((c, i) => (c > 0 ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(text).toHaveLength(Math.ceil((top + 1) / 2));
    expect(back.slice(0, top + 1)).toEqual(codes.slice(0, top + 1));
    const plan = codes.map((_, i) => ({ step: `s${i}`, job: `p-s${i}-00000000`, upstream: [] }));
    const names = ['', 'complete', 'failed', 'skipped', 'rejected'];
    const view = readLedger({ 'mlops.cdk8s.io/ledger': text }, plan)!;
    expect(view.states).toEqual(Object.fromEntries(codes.flatMap((c, i) => (c > 0 ? [[`s${i}`, names[c]]] : []))));
    // Nothing recorded yet: an empty annotation.
    expect(jqWithScript('[[0, 0, 0] | ledger_encode, ("" | ledger_decode)]', {})).toEqual(['', []]);
  });

  test('100,000 steps of 52-character names, every one failed: the ledger the decision program writes stays far under 256 KiB', () => {
    const n = 100_000;
    const name = (i: number) => `step-${String(i).padStart(6, '0')}-${'x'.repeat(40)}`;
    expect(name(0)).toHaveLength(52);
    const plan = Array.from({ length: n }, (_, i) => `${name(i)}\tp-${name(i)}\t-\n`).join('');
    const self = 'p-coordinator-00000000';
    const longReason = `PodFailurePolicy${'!'.repeat(400)}`;
    const items = [
      { metadata: { name: self, creationTimestamp: iso(1_700_000_000) }, spec: {}, status: {} },
      ...Array.from({ length: n }, (_, i) => ({
        metadata: { name: `p-${name(i)}` },
        spec: { suspend: false },
        status: { conditions: [{ type: 'Failed', status: 'True', reason: i === 0 ? longReason : 'BackoffLimitExceeded' }] },
      })),
    ];
    const r = runDecision(decisionProgram(coordinatorScript()), { jobs: JSON.stringify({ items }), plan, self, now: 1_700_000_600 });
    expect(r.stderr).toBe('');
    const [kind, job, patch, msg] = r.lines[0];
    expect([kind, job]).toEqual(['patch', self]);
    expect(msg).toBe(`recorded in the ledger: ${Array.from({ length: 10 }, (_, i) => `failed ${name(i)}`).join(', ')} and 99990 more`);
    const annotations: Record<string, string> = JSON.parse(patch).metadata.annotations;
    const bytes = (k: string) => Buffer.byteLength(annotations[k]);
    // 3 bits per step: n / 2 characters, whatever the names' length.
    expect(bytes('mlops.cdk8s.io/ledger')).toBe(n / 2);
    // Reasons: the first 100, each cut to 200 characters.
    const notes: Record<string, string> = JSON.parse(annotations['mlops.cdk8s.io/ledger-notes']);
    expect(Object.keys(notes)).toHaveLength(100);
    expect(notes['0']).toBe(`${longReason.slice(0, 197)}...`);
    expect(notes['99']).toBe('BackoffLimitExceeded');
    // Values: bounded by the script's own constant.
    const valuesBound = jqWithScript('values_bytes', {});
    expect(valuesBound).toBe(131072);
    const total = bytes('mlops.cdk8s.io/ledger') + bytes('mlops.cdk8s.io/ledger-notes') + valuesBound;
    expect(total).toBeLessThan(200 * 1024);
    // The summary comes in the same poll: every step is final.
    expect(r.lines[r.lines.length - 1]).toEqual(['exit', '', '', '3']);
    const view = readLedger(annotations, plan.trim().split('\n').map((l) => ({ step: l.split('\t')[0], job: l.split('\t')[1], upstream: [] })))!;
    expect(Object.values(view.states).filter((s) => s === 'failed')).toHaveLength(n);
  }, 60_000);

  test('a coordinator restarted after TTL deleted a completed and a failed Job: both stay final, the failure keeps its reason', async () => {
    const steps = dag('a->b c', { c: { retries: 0 } });
    const r = await simulate(synthPipeline({ steps, ttlSeconds: 120 }), {
      steps: { a: { durations: [10] }, b: { durations: [300] }, c: { durations: [10], exitCodes: [1] } },
      faults: { killCoordinatorAt: [150] },
    });
    expectClean(r);
    const { a, b, c } = r.steps;
    // Both Jobs were gone before the coordinator restarted.
    expect([a.deletedAt, c.deletedAt]).toEqual([130, 130]);
    expect(r.coordinator.runs.map((x) => [x.startedAt, x.killed ?? false])).toEqual([[0, true], [150, false]]);
    expect(b.outcome).toBe('complete');
    expect(b.releases).toEqual([10]);
    expect(a.pods).toHaveLength(1);
    expect(r.ledger?.states).toEqual({ a: 'complete', b: 'complete', c: 'failed' });
    expect(r.ledger?.notes).toEqual({ c: 'BackoffLimitExceeded' });
    // The restarted process learned c's failure from the ledger alone.
    const restarted = r.coordinator.runs[1].stdout;
    expect(restarted).toMatch(/c\s+failed\s+BackoffLimitExceeded/);
    expect(restarted).toContain('run finished after 310s: failed; 2 of 3 steps complete');
    expect(r.exitCode).toBe(3);
  });
});
