import { ContainerStep, Dataset, FanOut, ItemOutputs, Model, Pipeline } from '../../src';
import { envOf, findOne, K8sObject, stepJobs, synth } from '../support/synth';

const image = 'busybox:1.36';

function planOf(objects: K8sObject[]): string[][] {
  const cm = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator');
  return cm.data.plan.trimEnd().split('\n').map((l: string) => l.split('\t'));
}

describe('FanOut renders one Job per item', () => {
  const { objects } = synth((app) => {
    const p = new Pipeline(app, 'p', { defaults: { image } });
    const prep = new ContainerStep(p, 'prep', { outputs: { data: Dataset } });
    const score = new FanOut(p, 'score', {
      items: ['eu', { region: 'us', shards: 2, tags: ['a'] }],
      parallelism: 1,
      args: ['--region', '$(MLOPS_ITEM)'],
      inputs: { data: prep.outputs.data },
      outputs: { scores: Dataset },
    });
    new ContainerStep(p, 'merge', { inputs: { scores: score.outputs.scores } });
  });
  const jobs = stepJobs(objects);

  test('each instance carries exactly its item as literal env, in item order', () => {
    const env0 = envOf(jobs['score-0'].spec.template.spec.containers[0]);
    const env1 = envOf(jobs['score-1'].spec.template.spec.containers[0]);
    expect(env0).toMatchObject({ MLOPS_ITEM: 'eu', MLOPS_ITEM_INDEX: '0', MLOPS_STEP: 'score-0' });
    // Only top-level scalars of an object item get a variable of their own.
    expect(env1).toMatchObject({ MLOPS_ITEM: '{"region":"us","shards":2,"tags":["a"]}', MLOPS_ITEM_INDEX: '1', MLOPS_ITEM_REGION: 'us', MLOPS_ITEM_SHARDS: '2' });
    expect(env1.MLOPS_ITEM_TAGS).toBeUndefined();
    expect(jobs['score-1'].spec.template.spec.containers[0].args).toEqual(['--region', '$(MLOPS_ITEM)']);
    // Plain Jobs, not an Indexed one: each item is retried on its own.
    expect(jobs['score-0'].spec.completionMode).toBeUndefined();
  });

  test('instances write a folder each under one directory, which the fan-in reads and whose init containers create', () => {
    const out = [0, 1].map((i) => envOf(jobs[`score-${i}`].spec.template.spec.containers[0]).MLOPS_OUTPUT_SCORES);
    const collected = envOf(jobs.merge.spec.template.spec.containers[0]).MLOPS_INPUT_SCORES;
    expect(collected).toMatch(/^\/mnt\/workspace\/p\/score-[0-9a-f]{8}\/scores$/);
    expect(out).toEqual([`${collected}/0`, `${collected}/1`]);
    expect(jobs['score-1'].spec.template.spec.initContainers[0].command).toEqual(['mkdir', '-p', `${collected}/1`]);
  });

  test('the plan caps the group (column 9) and the fan-in waits for every instance', () => {
    const plan = planOf(objects);
    expect(plan.map((l) => [l[0], l[2], l[8]])).toEqual([
      ['prep', '-', undefined],
      ['score-0', 'prep', 'score:1'],
      ['score-1', 'prep', 'score:1'],
      ['merge', 'score-0,score-1', undefined],
    ]);
    expect(plan[1].slice(3)).toEqual(['all-succeeded', 'job', '-', '-', '-', 'score:1']);
    expect(jobs.merge.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('score-0,score-1');
  });
});

describe('FanOut in the model', () => {
  test('a changed item changes that instance and the collected directory, so the fan-in re-runs; the others are reused', () => {
    const build = (region: string) => synth((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const score = new FanOut(p, 'score', { items: ['eu', region], outputs: { scores: Dataset } });
      new ContainerStep(p, 'merge', { inputs: { scores: score.outputs.scores } });
    }).objects;
    const [a, b] = [stepJobs(build('us')), stepJobs(build('apac'))];
    expect(b['score-0'].metadata.name).toBe(a['score-0'].metadata.name);
    expect(b['score-1'].metadata.name).not.toBe(a['score-1'].metadata.name);
    expect(b.merge.metadata.name).not.toBe(a.merge.metadata.name);
    expect(envOf(b.merge.spec.template.spec.containers[0]).MLOPS_INPUT_SCORES).not.toBe(envOf(a.merge.spec.template.spec.containers[0]).MLOPS_INPUT_SCORES);
  });

  test('the collected output is its own kind: a typed step that wants one Model does not take a folder of models', () => {
    synth((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const fit = new FanOut(p, 'fit', { items: ['a', 'b'], outputs: { model: Model } });
      const models: ItemOutputs = fit.outputs.model;
      expect(models.kind).toBe('ItemOutputs');
      expect(models.itemKind).toBe('Model');
      expect(String(models)).toBe('p/fit.model');
      expect(fit.instances.map((s) => s.stepName)).toEqual(['fit-0', 'fit-1']);
      // @ts-expect-error an ItemOutputs is not a Model
      const one: Model = fit.outputs.model;
      expect(one).toBe(models);
      new ContainerStep(p, 'pick', { inputKinds: { models: ItemOutputs }, inputs: { models } });
    });
  });
});
