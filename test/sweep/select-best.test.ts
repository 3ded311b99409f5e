import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { Objective, Pipeline, SearchSpace, Sweep } from '../../src';
import { stepJobs, synth } from '../support/synth';
import { runSelection } from './run-selection';

/** A 4-trial grid sweep maximizing auc, with a budget of 1; its selection Job as synthesized. */
function selectionJob(objective = Objective.maximize('auc'), failureBudget = 1) {
  const { objects } = synth((app) => {
    const p = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    new Sweep(p, 'tune', {
      space: SearchSpace.grid({ lr: [0.1, 0.01], depth: [4, 8] }),
      metrics: ['auc', 'loss'],
      objective,
      failureBudget,
    });
  });
  return { objects, job: stepJobs(objects)['tune-select'] };
}

const sel = (objective?: Objective): [any[], any] => {
  const { objects, job } = selectionJob(objective);
  return [objects, job];
};

const states = (s: string[]) => JSON.stringify(Object.fromEntries(s.map((state, i) => [`tune-trial-${i}`, state])));

describe('the selection script, as synthesized, with real bash and jq', () => {
  test('picks the best completed trial, copies its model, and writes a ranked leaderboard with the winner\'s metrics', () => {
    const r = runSelection(...sel(), {
      0: { metrics: { auc: 0.81, loss: 0.4 }, model: 'm0' },
      1: { metrics: { auc: 0.86, loss: 0.3 }, model: 'm1' },
      // Failed after writing a better metric: the coordinator says so, and it does not count.
      2: { metrics: { auc: 0.99, loss: 0.1 }, model: 'm2' },
      3: { metrics: { auc: 0.84, loss: 0.35 }, model: 'm3' },
    }, states(['complete', 'complete', 'failed', 'complete']));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(r.modelOut, 'model.txt'), 'utf8')).toBe('m1');
    const board = JSON.parse(readFileSync(join(r.boardOut, 'leaderboard.json'), 'utf8'));
    expect(board.winner).toEqual({ trial: 1, step: 'tune-trial-1', state: 'complete', params: { lr: 0.1, depth: 8 }, value: 0.86 });
    expect(board.trials.map((t: any) => [t.trial, t.state, t.rank ?? null])).toEqual([[1, 'complete', 1], [3, 'complete', 2], [0, 'complete', 3], [2, 'failed', null]]);
    expect(JSON.parse(readFileSync(join(r.boardOut, 'metrics.json'), 'utf8'))).toEqual({ auc: 0.86, loss: 0.3 });
    expect(r.stdout.split('\n')[0]).toBe('winner: trial 1 (tune-trial-1) with auc 0.86, maximized over 3 completed trials');
    // The winner as the step's values, in the files the values reporter checks by type.
    expect(r.values).toEqual({ best: '0.86\n', best_params: '{"lr":0.1,"depth":8}\n', best_trial: '1\n' });
  });

  test('minimizes when asked, and breaks ties by the lowest trial index', () => {
    const r = runSelection(...sel(Objective.minimize('loss')), {
      0: { metrics: { auc: 0.8, loss: 0.3 }, model: 'm0' },
      1: { metrics: { auc: 0.8, loss: 0.2 }, model: 'm1' },
      2: { metrics: { auc: 0.8, loss: 0.5 }, model: 'm2' },
      3: { metrics: { auc: 0.8, loss: 0.2 }, model: 'm3' },
    }, states(['complete', 'complete', 'complete', 'complete']));
    expect(r.status).toBe(0);
    expect(readFileSync(join(r.modelOut, 'model.txt'), 'utf8')).toBe('m1');
    expect(r.values).toEqual({ best: '0.2\n', best_params: '{"lr":0.1,"depth":8}\n', best_trial: '1\n' });
  });

  test('fails, naming the trials, when more trials are missing than the budget, and writes no model', () => {
    const r = runSelection(...sel(), { 0: { metrics: { auc: 0.8, loss: 1 }, model: 'm0' }, 3: { metrics: { auc: 0.7, loss: 1 }, model: 'm3' } },
      states(['complete', 'failed', 'skipped', 'complete']));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('select: 2 of 4 trials did not complete, more than the failure budget of 1: tune-trial-1 failed, tune-trial-2 skipped\n');
    expect(existsSync(join(r.modelOut, 'model.txt'))).toBe(false);
    expect(r.values).toEqual({});
  });

  test('fails when a completed trial wrote no number for the objective metric', () => {
    const r = runSelection(...sel(), { 0: { metrics: { auc: 0.8 } }, 1: { metrics: { loss: 0.2 } }, 2: { metrics: { auc: 0.8 } }, 3: { metrics: { auc: 0.8 } } },
      states(['complete', 'complete', 'complete', 'complete']));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^select: trial 1 \(tune-trial-1\) completed but \/.*\/tune-[0-9a-f]{8}\/metrics\/1\/metrics\.json has no number for 'auc' \(got null\)\n$/);
  });

  test('fails when the coordinator did not write the trials\' states', () => {
    const r = runSelection(...sel(), {}, '');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('MLOPS_UPSTREAM_STATES: the coordinator wrote no upstream states into this pod (annotation mlops.cdk8s.io/upstream-states)');
  });
});
