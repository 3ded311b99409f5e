import { renderStatus } from '../../src/status/render-status';
import { runStatus } from '../../src/status/run-status';
import { coordinatorJob, list, stepJob, T0 } from './jobs';

const time = (s: number) => new Date(T0.getTime() + s * 1000);

describe('the state of a run, from one Job list', () => {
  test('mid-run: complete, running since, waiting on which upstream', () => {
    const jobs = list(
      coordinatorJob({ ledger: ['ingest'] }),
      stepJob('ingest', { released: true, started: 5, completed: 65 }),
      stepJob('features', { after: ['ingest'], released: true, started: 70, active: 1 }),
      stepJob('profile', { after: ['ingest'], released: true, started: 70, completed: 100 }),
      stepJob('train', { after: ['features'] }),
      stepJob('evaluate', { after: ['features', 'profile', 'train'] }),
    );
    const run = runStatus(jobs, 'churn', time(190));
    expect(run.outcome).toBe('running');
    expect(run.steps.map((s) => [s.step, s.state])).toEqual([
      ['ingest', 'complete'], ['features', 'running'], ['profile', 'complete'], ['train', 'waiting'], ['evaluate', 'waiting'],
    ]);
    expect(run.steps.find((s) => s.step === 'evaluate')!.waitingOn).toEqual([{ step: 'features', state: 'running' }, { step: 'train', state: 'waiting' }]);
    expect(run.criticalPath).toEqual(['ingest', 'features', 'train', 'evaluate']);
    // ingest ran 60 s, features 120 s so far.
    expect(run.criticalPathMs).toBe(180_000);
    expect(renderStatus(run, 'ml', time(190))).toBe([
      'pipeline churn (namespace ml): running, elapsed 3m 10s',
      '  ingest    complete  in 1m 00s',
      '  features  running   since 06:01:10Z (2m 00s), 1 pod active',
      '  profile   complete  in 30s',
      '  train     waiting   on features (running)',
      '  evaluate  waiting   on features (running), train (waiting)',
      'critical path ingest -> features -> train -> evaluate: 3m 00s of step run time in 3m 10s elapsed',
      '',
    ].join('\n'));
  });

  test('a failed step and the steps skipped because of it; the coordinator exited 3', () => {
    const reason = "upstream step 'train' failed: BackoffLimitExceeded";
    const jobs = list(
      coordinatorJob({ failed: { at: 400, exitCode: 3 }, ledger: ['ingest'] }),
      stepJob('ingest', { released: true, started: 0, completed: 60 }),
      stepJob('train', { after: ['ingest'], released: true, started: 65, failed: { at: 390, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } }),
      stepJob('evaluate', { after: ['train'], annotations: { 'mlops.cdk8s.io/skipped': reason } }),
    );
    const run = runStatus(jobs, 'churn', time(500));
    expect(run.outcome).toBe('failed');
    expect(run.outcomeReason).toBe('step train failed (BackoffLimitExceeded: Job has reached the specified backoff limit)');
    expect(run.endedAt).toEqual(time(400));
    expect(run.steps.map((s) => [s.step, s.state, s.reason])).toEqual([
      ['ingest', 'complete', undefined],
      ['train', 'failed', 'BackoffLimitExceeded: Job has reached the specified backoff limit'],
      ['evaluate', 'skipped', reason],
    ]);
    expect(renderStatus(run, 'ml', time(500)).split('\n').slice(2)).toEqual([
      '  train     failed    BackoffLimitExceeded: Job has reached the specified backoff limit',
      `  evaluate  skipped   ${reason}`,
      'critical path ingest -> train -> evaluate: 6m 25s of step run time in 6m 40s elapsed',
      'run failed: step train failed (BackoffLimitExceeded: Job has reached the specified backoff limit)',
      '',
    ]);
  });

  test('a gate that rejected its model: rejected, its downstream skipped, the coordinator exited 4', () => {
    const jobs = list(
      coordinatorJob({ failed: { at: 200, exitCode: 4 }, ledger: ['train'] }),
      stepJob('train', { released: true, started: 0, completed: 100 }),
      stepJob('gate', { after: ['train'], released: true, started: 105, completed: 120, annotations: { 'mlops.cdk8s.io/verdict': 'rejected: auc 0.74 < 0.80' } }),
      stepJob('deploy', { after: ['gate'], annotations: { 'mlops.cdk8s.io/skipped': 'gate rejected: auc 0.74 < 0.80' } }),
    );
    const run = runStatus(jobs, 'churn', time(300));
    expect(run.outcome).toBe('rejected');
    expect(run.steps.map((s) => [s.step, s.state, s.reason])).toEqual([
      ['train', 'complete', undefined],
      ['gate', 'rejected', 'gate rejected: auc 0.74 < 0.80'],
      ['deploy', 'skipped', 'gate rejected: auc 0.74 < 0.80'],
    ]);
    expect(run.outcomeReason).toBe('step gate: gate rejected: auc 0.74 < 0.80');
  });

  test('succeeded: the coordinator completed; an approved gate is complete', () => {
    const jobs = list(
      coordinatorJob({ completed: 130, ledger: ['train', 'gate'] }),
      stepJob('train', { released: true, started: 0, completed: 100 }),
      stepJob('gate', { after: ['train'], released: true, started: 105, completed: 120, annotations: { 'mlops.cdk8s.io/verdict': 'approved' } }),
    );
    const run = runStatus(jobs, 'churn', time(999));
    expect(run.outcome).toBe('succeeded');
    expect(run.endedAt).toEqual(time(130));
    expect(run.steps.map((s) => s.state)).toEqual(['complete', 'complete']);
    expect(renderStatus(run, 'ml', time(999)).split('\n')[0]).toBe('pipeline churn (namespace ml): succeeded, elapsed 2m 10s');
  });

  test('all steps final but the coordinator still running: the run is not over yet', () => {
    const jobs = list(coordinatorJob(), stepJob('train', { released: true, started: 0, completed: 100 }));
    expect(runStatus(jobs, 'churn', time(101)).outcome).toBe('running');
  });

  test('a step deleted by TTL counts as complete when the ledger has it; otherwise it is missing', () => {
    // The ledger records plan positions (docs/coordinator-contract.md): "I" is position 0 complete.
    const coordinator = coordinatorJob();
    coordinator.metadata.annotations = { 'mlops.cdk8s.io/ledger': 'I' };
    const jobs = list(coordinator, stepJob('train', { after: ['ingest', 'stats'] }));
    const plan = 'ingest\tchurn-ingest-00000001\t-\nstats\tchurn-stats-00000002\t-\ntrain\tchurn-train-00000003\tingest,stats\n';
    const run = runStatus(jobs, 'churn', time(10), plan);
    expect(run.steps.map((s) => [s.step, s.state])).toEqual([['ingest', 'complete'], ['stats', 'missing'], ['train', 'waiting']]);
    expect(run.steps[2].waitingOn).toEqual([{ step: 'stats', state: 'missing' }]);
  });

  test('after a changed re-apply the newest Job of a step is the run\'s; other pipelines are ignored', () => {
    const old = stepJob('train', { released: true, started: 0, failed: { at: 50, reason: 'DeadlineExceeded', message: '' } });
    const current = { ...stepJob('train', { released: true, started: 60, created: 55 }) };
    current.metadata = { ...current.metadata, name: 'churn-train-ffffffff' };
    const run = runStatus(list(old, current, stepJob('other', {}, 'sweep')), 'churn', time(70));
    expect(run.steps.map((s) => [s.step, s.job, s.state])).toEqual([['train', 'churn-train-ffffffff', 'running']]);
  });

  test('without a coordinator, the steps decide once all are final; the run starts at the first pod', () => {
    const jobs = list(
      stepJob('a', { released: true, started: 10, completed: 20 }),
      stepJob('b', { after: ['a'], annotations: { 'mlops.cdk8s.io/skipped': 'run deadline of 600s exceeded' } }),
    );
    const run = runStatus(jobs, 'churn', time(700));
    expect(run.outcome).toBe('failed');
    expect(run.outcomeReason).toBe('step b was skipped: run deadline of 600s exceeded');
    expect(run.startedAt).toEqual(time(10));
  });

  test('failures within a group\'s failure budget (plan column 8) say so and do not fail the run; without a coordinator either', () => {
    const failed = { at: 50, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    const trials = [
      stepJob('tune-trial-0', { released: true, started: 0, completed: 40 }),
      stepJob('tune-trial-1', { released: true, started: 0, failed }),
      stepJob('tune-trial-2', { released: true, started: 0, completed: 45 }),
      stepJob('tune-select', { after: ['tune-trial-0', 'tune-trial-1', 'tune-trial-2'], released: true, started: 60, completed: 70 }),
    ];
    const plan = [0, 1, 2].map((i) => `tune-trial-${i}\tchurn-tune-trial-${i}-0a1b2c3d\t-\tall-succeeded\tjob\t-\t-\ttune:1\ttune:3`).join('\n')
      + '\ntune-select\tchurn-tune-select-0a1b2c3d\ttune-trial-0,tune-trial-1,tune-trial-2\tall-done\n';
    for (const jobs of [list(coordinatorJob({ completed: 80 }), ...trials), list(...trials)]) {
      const run = runStatus(jobs, 'churn', time(90), plan);
      expect(run.outcome).toBe('succeeded');
      expect(run.outcomeReason).toBeUndefined();
      expect(run.steps.find((s) => s.step === 'tune-trial-1')!.reason)
        .toBe('BackoffLimitExceeded: Job has reached the specified backoff limit; within the failure budget of tune (1 failed, 1 allowed)');
    }
  });

  test('a step the coordinator failed without running it (a value its producer did not write): the ledger\'s state, the reason it wrote on the Job', () => {
    // "K" is positions 0 and 1: complete (1) and failed (2), 1 << 3 | 2 = 10.
    const coordinator = coordinatorJob({ failed: { at: 30, exitCode: 3 } });
    coordinator.metadata.annotations = { 'mlops.cdk8s.io/ledger': 'K', 'mlops.cdk8s.io/ledger-notes': '{"1":"value train.accuracy was not produced"}' };
    const jobs = list(
      coordinator,
      stepJob('train', { released: true, started: 0, completed: 20 }),
      stepJob('deploy', { after: ['train'], annotations: { 'mlops.cdk8s.io/skipped': 'value train.accuracy was not produced' } }),
    );
    const plan = 'train\tchurn-train-0a1b2c3d\t-\ndeploy\tchurn-deploy-0a1b2c3d\ttrain\tall-succeeded\tjob\t{"left":{"step":"train","value":"accuracy"},"op":">=","right":{"const":0.8}}\n';
    const run = runStatus(jobs, 'churn', time(40), plan);
    expect(run.steps.map((s) => [s.step, s.state, s.reason])).toEqual([['train', 'complete', undefined], ['deploy', 'failed', 'value train.accuracy was not produced']]);
    expect(run.outcomeReason).toBe('step deploy failed (value train.accuracy was not produced)');
  });

  test('Job fields of the wrong type are ignored, not trusted', () => {
    const bad = stepJob('x', { released: true });
    bad.status = { startTime: 'yesterday', conditions: [{ type: 'Complete', status: 'True' }, 'junk'], active: '3' };
    bad.metadata.annotations = { 'mlops.cdk8s.io/depends-on': 42 };
    const run = runStatus(list(bad, 'junk', { metadata: {} }), 'churn', time(1));
    expect(run.steps.map((s) => [s.step, s.state, s.upstreams, s.startedAt, s.activePods])).toEqual([['x', 'complete', [], undefined, 0]]);
  });

  test('control characters from annotations are not written to the terminal', () => {
    const jobs = list(stepJob('a', { annotations: { 'mlops.cdk8s.io/skipped': 'bad\u001b[2Jthing' } }));
    expect(renderStatus(runStatus(jobs, 'churn', time(1)), 'ml', time(1))).toContain('  a     skipped   bad?[2Jthing\n');
  });
});

