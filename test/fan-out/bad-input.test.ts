import { ContainerStep, Dataset, FanOut, FanOutItem, Pipeline } from '../../src';
import { expectSynthFailure as expectFailure, VALIDATION } from '../support/synth';

const image = 'busybox:1.36';

describe('a fan-out that cannot run as written fails synthesis with the path, the value and the fix, and writes nothing', () => {
  test('an empty item list', () => {
    expectFailure((app) => {
      new FanOut(new Pipeline(app, 'p', { defaults: { image } }), 'score', { items: [] });
    }, "[p/score] 'items' is empty: a fan-out runs one instance per item; pass at least one, e.g. items: ['eu', 'us']");
  });

  test('duplicate items, also objects that differ only in key order', () => {
    expectFailure((app) => {
      new FanOut(new Pipeline(app, 'p', { defaults: { image } }), 'score', { items: ['eu', 'us', 'eu'] });
    }, "[p/score] 'items' holds eu twice (items 0 and 2): each item runs exactly once; remove the duplicate");
    expectFailure((app) => {
      new FanOut(new Pipeline(app, 'p', { defaults: { image } }), 'score', { items: [{ region: 'eu', n: 1 }, { n: 1, region: 'eu' }] });
    }, '[p/score] \'items\' holds {"n":1,"region":"eu"} twice (items 0 and 1): each item runs exactly once; remove the duplicate');
  });

  test('an item too large to travel in a pod template', () => {
    expectFailure((app) => {
      new FanOut(new Pipeline(app, 'p', { defaults: { image } }), 'score', { items: ['eu', 'x'.repeat(5000)] });
    }, '[p/score] item 1 is 5000 bytes as MLOPS_ITEM, more than 4096: an item travels in its instance\'s pod template; '
      + 'put the data in a Dataset and fan out over keys into it');
  });

  test('an item that is neither a string nor a JSON object (from JavaScript)', () => {
    expectFailure((app) => {
      new FanOut(new Pipeline(app, 'p', { defaults: { image } }), 'score', { items: ['eu', 3 as unknown as FanOutItem] });
    }, '[p/score] item 1 must be a string or a JSON object (strings, numbers, booleans, null, lists, objects), got 3');
  });

  test('a parallelism below 1', () => {
    expectFailure((app) => {
      new FanOut(new Pipeline(app, 'p', { defaults: { image } }), 'score', { items: ['eu', 'us'], parallelism: 0 });
    }, "[p/score] 'parallelism' must be a whole number from 1 to 2 (the number of items), got 0");
  });

  test('reading the output of one instance instead of the collected output', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const score = new FanOut(p, 'score', { items: ['eu', 'us'], outputs: { scores: Dataset } });
      new ContainerStep(p, 'merge', { inputs: { scores: score.instances[1].outputs.scores } });
    }, `${VALIDATION}[p/merge] input 'scores' reads 'scores' of one instance, p/score/1, whose folder is one item of 'score'; `
      + "read every item's folder through p/score's outputs.scores");
  });
});
