import { Objective, Param, Pipeline, SearchSpace, Sweep, SweepProps } from '../../src';
import { expectSynthFailure as expectFailure } from '../support/synth';

const image = 'busybox:1.36';
const good: SweepProps = {
  space: SearchSpace.random({ lr: Param.logUniform(1e-4, 1e-1) }, { trials: 12, seed: 1 }),
  metrics: ['auc', 'logloss'],
  objective: Objective.maximize('auc'),
  parallelism: 3,
  failureBudget: 2,
};

describe('a sweep that cannot run as written fails synthesis with the path, the value and the fix, and writes nothing', () => {
  test('an empty grid: no parameters, or a parameter without values', () => {
    expectFailure((app) => {
      new Sweep(new Pipeline(app, 'p', { defaults: { image } }), 'tune', { ...good, space: SearchSpace.grid({}) });
    }, "[p/tune] 'space' is an empty grid: it has no parameters; give at least one with its values, e.g. SearchSpace.grid({ learning_rate: [0.1, 0.01] })");
    expectFailure((app) => {
      new Sweep(new Pipeline(app, 'p', { defaults: { image } }), 'tune', { ...good, space: SearchSpace.grid({ lr: [0.1], depth: [] }) });
    }, "[p/tune] 'space' is an empty grid: parameter 'depth' has no values; give it at least one, e.g. { depth: [0.1, 0.01] }");
  });

  test('a failure budget larger than the trial count', () => {
    expectFailure((app) => {
      new Sweep(new Pipeline(app, 'p', { defaults: { image } }), 'tune', { ...good, failureBudget: 13 });
    }, "[p/tune] 'failureBudget' must be a whole number from 0 to 11 (the sweep runs 12 trials, and one must complete to pick a winner), got 13");
  });

  test('an objective metric the trials do not produce', () => {
    expectFailure((app) => {
      new Sweep(new Pipeline(app, 'p', { defaults: { image } }), 'tune', { ...good, objective: Objective.maximize('accuracy') });
    }, "[p/tune] objective metric 'accuracy' is not one the trials write ('auc', 'logloss'); name one of them in Objective.maximize(), or add 'accuracy' to 'metrics'");
  });

  test('a parallelism below 1', () => {
    expectFailure((app) => {
      new Sweep(new Pipeline(app, 'p', { defaults: { image } }), 'tune', { ...good, parallelism: 0 });
    }, "[p/tune] 'parallelism' must be a whole number from 1 to 12 (the number of trials), got 0");
  });

  test('a random search that cannot draw enough distinct trials', () => {
    expectFailure((app) => {
      new Sweep(new Pipeline(app, 'p', { defaults: { image } }), 'tune', { ...good, failureBudget: 0, space: SearchSpace.random({ opt: Param.choice(['adam', 'sgd']) }, { trials: 3 }) });
    }, "[p/tune] 'space' gave only 2 distinct points in 300 draws, fewer than the 3 trials asked; widen the parameters' ranges or ask for fewer trials");
  });

  test('a log-uniform range that reaches zero', () => {
    expectFailure((app) => {
      new Sweep(new Pipeline(app, 'p', { defaults: { image } }), 'tune', { ...good, space: SearchSpace.random({ lr: Param.logUniform(0, 1) }, { trials: 12 }) });
    }, "[p/tune] parameter 'lr': a log-uniform range needs min > 0, got 0");
  });
});
