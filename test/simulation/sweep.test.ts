import { simulate, SimulationResult } from '../../src/verify/simulator';
import { expectClean } from './fixtures';
import { behaviour, sweepPipeline, trials } from './sweep-fixture';

/** Trial i's parameters as its Job's env has them (MLOPS_ITEM), from the synthesized YAML. */
const trialParams = (i: number): string => {
  const job = sweepPipeline().find((o) => o.kind === 'Job' && o.metadata.labels?.['mlops.cdk8s.io/step'] === `tune-trial-${i}`)!;
  return job.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MLOPS_ITEM').value;
};
/** The files deploy left in the workspace, below its own folder. */
function deployFiles(r: SimulationResult): string[] {
  return Object.values(r.claims).flatMap((claim) => Object.keys(claim)).map((f) => /^hpo\/deploy-[0-9a-f]{8}\/(.*)$/.exec(f)?.[1]).filter((f): f is string => f !== undefined);
}

/** The selection's files at the end of the run, from the workspace claim: path below the step's folder to content. */
function selectionFiles(r: SimulationResult): Record<string, string> {
  const files: Record<string, string> = {};
  for (const claim of Object.values(r.claims)) {
    for (const [path, text] of Object.entries(claim)) {
      const m = /^hpo\/tune-select-[0-9a-f]{8}\/(.*)$/.exec(path);
      if (m) files[m[1]] = text;
    }
  }
  return files;
}

describe('a sweep in the simulated cluster (real kubectl, real coordinator script, the real selection script)', () => {
  test('12 trials, at most 3 at once, 2 failing within a budget of 3: the run goes on and the selection picks the best completed trial', async () => {
    const r = await simulate(sweepPipeline(), { steps: behaviour([4, 9]) });
    expectClean(r);
    expect(r.maxConcurrentByGroup).toEqual({ tune: 3 });
    expect(trials.map((t) => r.steps[t].outcome)).toEqual(trials.map((_, i) => ([4, 9].includes(i) ? 'failed' : 'complete')));
    // The selection (all-done) starts once every trial is final, and learns which completed from the coordinator.
    const select = r.steps['tune-select'];
    expect(select.startedAt).toBeGreaterThanOrEqual(Math.max(...trials.map((t) => r.steps[t].finishedAt!)));
    expect(JSON.parse(select.podAnnotations!['mlops.cdk8s.io/upstream-states']))
      .toEqual(Object.fromEntries(trials.map((t, i) => [t, [4, 9].includes(i) ? 'failed' : 'complete'])));
    // The selection script ran for real on what the trials left in the workspace.
    const run = r.containers.filter((c) => c.step === 'tune-select');
    // The selection script ran for real, then the values reporter put the winner on the Job.
    expect(run.map((c) => [c.container, c.exitCode, c.stderr])).toEqual([['select', 0, ''], ['report-values', 0, '']]);
    expect(run[0].stdout.split('\n')[0]).toBe('winner: trial 7 (tune-trial-7) with auc 0.93, maximized over 10 completed trials');
    expect(JSON.parse(select.annotations!['mlops.cdk8s.io/values'])).toEqual({ best: 0.93, best_trial: 7, best_params: JSON.parse(trialParams(7)) });
    const out = selectionFiles(r);
    expect(out['model/model.txt']).toBe('model of trial 7');
    expect(JSON.parse(out['leaderboard/metrics.json'])).toEqual({ auc: 0.93 });
    const board = JSON.parse(out['leaderboard/leaderboard.json']);
    expect(board.winner).toMatchObject({ trial: 7, step: 'tune-trial-7', value: 0.93 });
    expect(board.trials.map((t: any) => t.trial)).toEqual([7, 11, 10, 8, 6, 5, 3, 2, 1, 0, 4, 9]);
    expect(r.steps.export.outcome).toBe('complete');
    // The winning AUC (0.93) meets deploy's condition (>= 0.9): deploy runs with it in its env.
    expect(r.steps.deploy.outcome).toBe('complete');
    expect(r.steps.deploy.podAnnotations).toEqual({ 'in.mlops.cdk8s.io/auc': '0.93' });
    expect(deployFiles(r)).toEqual(['receipt/auc-0.93']);
    expect(r.coordinator.stdout).toContain('released deploy (upstream: tune-select; values: auc=0.93)');
    // Failures within the budget (plan column 8) do not count: the run succeeds.
    expect(r.exitCode).toBe(0);
    expect(r.coordinator.stdout).toMatch(/run finished after \d+s: succeeded; 14 of 16 steps complete/);
  });

  test('the same sweep with deploy asking for an AUC of 0.95: deploy is skipped by its condition with the winning value as the reason, and the run succeeds', async () => {
    const r = await simulate(sweepPipeline(0.95), { steps: behaviour([4, 9]) });
    expectClean(r);
    expect(r.steps['tune-select'].outcome).toBe('complete');
    expect(r.steps.deploy.outcome).toBe('skipped');
    expect(r.steps.deploy.skipped).toBe('condition false: tune-select.best (0.93) >= 0.95');
    expect(r.steps.deploy.pods).toEqual([]);
    expect(deployFiles(r)).toEqual([]);
    expect(r.steps.export.outcome).toBe('complete');
    // A condition's skip is a result, not a failure.
    expect(r.exitCode).toBe(0);
    expect(r.ledger?.states).toMatchObject({ 'tune-select': 'complete', deploy: 'skipped', export: 'complete' });
  });

  test('the same sweep with 4 failures exceeds the budget of 3: the selection fails naming them, and the run fails with exit 3', async () => {
    const r = await simulate(sweepPipeline(), { steps: behaviour([1, 4, 6, 9]) });
    expectClean(r);
    expect(r.maxConcurrentByGroup).toEqual({ tune: 3 });
    const run = r.containers.filter((c) => c.step === 'tune-select');
    expect(run.map((c) => [c.exitCode, c.stderr])).toEqual([[1, 'select: 4 of 12 trials did not complete, more than the failure budget of 3: '
      + 'tune-trial-1 failed, tune-trial-4 failed, tune-trial-6 failed, tune-trial-9 failed\n']]);
    expect(selectionFiles(r)['model/model.txt']).toBeUndefined();
    expect(r.steps['tune-select'].outcome).toBe('failed');
    expect(r.steps.export.skipped).toBe("upstream step 'tune-select' failed: BackoffLimitExceeded");
    expect(r.steps.deploy.skipped).toBe("upstream step 'tune-select' failed: BackoffLimitExceeded");
    expect(r.exitCode).toBe(3);
    expect(r.coordinator.outcome).toBe('Failed: PodFailurePolicy');
  });
});
