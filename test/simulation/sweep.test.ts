import { readFileSync } from 'fs';
import { join } from 'path';
import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Dataset, Objective, Param, Pipeline, PlainBackend, SearchSpace, Sweep } from '../../src';
import { ManifestObject, simulate, StepBehaviour } from '../../src/verify/simulator';
import { runSelection, TrialFiles } from '../sweep/run-selection';
import { stepJobs } from '../support/synth';
import { expectClean } from './fixtures';

/** split -> 12 trials (3 at once, budget 3) -> select -> export. */
function sweepPipeline(): ManifestObject[] {
  const app = Testing.app();
  const p = new Pipeline(app, 'hpo', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/trainer:1.0' },
    backend: new PlainBackend({ pollInterval: Duration.seconds(10) }),
  });
  const split = new ContainerStep(p, 'split', { outputs: { train: Dataset } });
  const tune = new Sweep(p, 'tune', {
    space: SearchSpace.random({ lr: Param.logUniform(1e-4, 1e-1), depth: Param.integer(2, 8) }, { trials: 12, seed: 11 }),
    parallelism: 3,
    failureBudget: 3,
    metrics: ['auc'],
    objective: Objective.maximize('auc'),
    args: ['--lr', '$(MLOPS_PARAM_LR)'],
    inputs: { train: split.outputs.train },
  });
  new ContainerStep(p, 'export', { inputs: { model: tune.model } });
  return Testing.synth(p) as ManifestObject[];
}

const trials = Array.from({ length: 12 }, (_, i) => `tune-trial-${i}`);
/** Each trial's AUC: trial 7 is best, trial 4 (which fails after writing) would be better. */
const auc = (i: number) => (i === 7 ? 0.93 : i === 4 ? 0.99 : 0.7 + i / 100);

/** Trials run 10-40 s; `failing` exit 1 on every attempt. */
function behaviour(failing: number[], selectExit: number): Record<string, StepBehaviour> {
  const steps: Record<string, StepBehaviour> = { 'tune-select': { exitCodes: [selectExit] } };
  trials.forEach((t, i) => (steps[t] = { durations: [10 + (i % 4) * 10], exitCodes: [failing.includes(i) ? 1 : 0] }));
  return steps;
}

/** What the trials left: every trial wrote its metrics and model, the failing ones too. */
const files: Record<number, TrialFiles> = Object.fromEntries(trials.map((_, i) => [i, { metrics: { auc: auc(i) }, model: `model of trial ${i}` }]));

describe('a sweep in the simulated cluster (real kubectl, real coordinator script, the real selection script)', () => {
  test('12 trials, at most 3 at once, 2 failing within a budget of 3: the run goes on and the selection picks the best completed trial', async () => {
    const objects = sweepPipeline();
    const r = await simulate(objects, { steps: behaviour([4, 9], 0) });
    expectClean(r);
    expect(r.maxConcurrentByGroup).toEqual({ tune: 3 });
    expect(trials.map((t) => r.steps[t].outcome)).toEqual(trials.map((_, i) => ([4, 9].includes(i) ? 'failed' : 'complete')));
    // The selection (all-done) starts once every trial is final, and learns which completed from the coordinator.
    const select = r.steps['tune-select'];
    expect(select.startedAt).toBeGreaterThanOrEqual(Math.max(...trials.map((t) => r.steps[t].finishedAt!)));
    const states = select.podAnnotations!['mlops.cdk8s.io/upstream-states'];
    expect(JSON.parse(states)).toEqual(Object.fromEntries(trials.map((t, i) => [t, [4, 9].includes(i) ? 'failed' : 'complete'])));
    expect(r.steps.export.outcome).toBe('complete');
    // Failures within the budget (plan column 8) do not count: the run succeeds.
    expect(r.exitCode).toBe(0);
    expect(r.coordinator.stdout).toContain('run finished after');
    expect(r.coordinator.stdout).toContain(': succeeded; 13 of 15 steps complete');

    // The selection's container, as synthesized, with what the coordinator wrote into its pod.
    const job = stepJobs(objects as any)['tune-select'];
    const run = runSelection(objects as any, job, files, states);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readFileSync(join(run.modelOut, 'model.txt'), 'utf8')).toBe('model of trial 7');
    const board = JSON.parse(readFileSync(join(run.boardOut, 'leaderboard.json'), 'utf8'));
    expect(board.winner).toMatchObject({ trial: 7, step: 'tune-trial-7', value: 0.93 });
    expect(board.trials.filter((t: any) => t.state === 'failed').map((t: any) => t.trial)).toEqual([4, 9]);
  });

  test('the same sweep with 4 failures exceeds the budget of 3: the selection fails naming them, and the run fails with exit 3', async () => {
    const objects = sweepPipeline();
    const failing = [1, 4, 6, 9];
    const r = await simulate(objects, { steps: behaviour(failing, 1) });
    expectClean(r);
    expect(r.maxConcurrentByGroup).toEqual({ tune: 3 });
    const states = r.steps['tune-select'].podAnnotations!['mlops.cdk8s.io/upstream-states'];
    // The modelled selection exits 1 because the real script does, on what the coordinator wrote.
    const run = runSelection(objects as any, stepJobs(objects as any)['tune-select'], files, states);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('select: 4 of 12 trials did not complete, more than the failure budget of 3: '
      + 'tune-trial-1 failed, tune-trial-4 failed, tune-trial-6 failed, tune-trial-9 failed\n');
    expect(r.steps['tune-select'].outcome).toBe('failed');
    expect(r.steps.export.skipped).toBe("upstream step 'tune-select' failed: BackoffLimitExceeded");
    expect(r.exitCode).toBe(3);
    expect(r.coordinator.outcome).toBe('Failed: PodFailurePolicy');
  });

  test('4 failures fail the run through the budget alone, even if the selection step succeeded', async () => {
    const r = await simulate(sweepPipeline(), { steps: behaviour([1, 4, 6, 9], 0) });
    expectClean(r);
    expect(r.steps['tune-select'].outcome).toBe('complete');
    expect(r.steps.export.outcome).toBe('complete');
    expect(r.exitCode).toBe(3);
  });
});
