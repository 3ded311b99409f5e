import { App, Duration, Testing } from 'cdk8s';
import { ContainerStep, Dataset, Model, Pipeline } from '../../src';
import { addExamples } from '../../examples/app';
import { stepJobs, synth } from '../support/synth';

/** A three-step chain whose pieces the tests vary one at a time. */
function chain(app: App, opts: { trainImage?: string; evalImage?: string; runId?: string } = {}) {
  const pipeline = new Pipeline(app, 'chain', { runId: opts.runId, defaults: { image: 'python:3.12-slim' } });
  const prep = new ContainerStep(pipeline, 'prep', { outputs: { data: Dataset } });
  const train = new ContainerStep(pipeline, 'train', { image: opts.trainImage, inputs: { data: prep.outputs.data }, outputs: { model: Model } });
  new ContainerStep(pipeline, 'evaluate', { image: opts.evalImage, inputs: { model: train.outputs.model } });
}

const names = (opts: Parameters<typeof chain>[1]) => {
  const jobs = stepJobs(synth((app) => chain(app, opts)).objects);
  return Object.fromEntries(Object.entries(jobs).map(([k, j]) => [k, j.metadata.name as string]));
};

describe('names and determinism', () => {
  test('two synths of the same program are byte-identical', () => {
    expect(synth(addExamples).files).toEqual(synth(addExamples).files);
  });

  test('Job names are <pipeline>-<step>-<8 hex of the spec>', () => {
    for (const name of Object.values(names({}))) expect(name).toMatch(/^chain-(prep|train|evaluate)-[0-9a-f]{8}$/);
  });

  test('a changed step gets a new Job name, and so does everything downstream of it, but not upstream', () => {
    const before = names({});
    const after = names({ trainImage: 'python:3.13-slim' });
    expect(after.prep).toBe(before.prep);
    expect(after.train).not.toBe(before.train);
    expect(after.evaluate).not.toBe(before.evaluate);
  });

  test('a changed leaf step renames only that step', () => {
    const before = names({});
    const after = names({ evalImage: 'python:3.13-slim' });
    expect([after.prep, after.train]).toEqual([before.prep, before.train]);
    expect(after.evaluate).not.toBe(before.evaluate);
  });

  test('a run id forces new Jobs for every step and gives each run its own artifact directories', () => {
    const plain = names({});
    const run1 = names({ runId: 'r1' });
    const run2 = names({ runId: 'r2' });
    for (const step of ['prep', 'train', 'evaluate']) {
      expect(new Set([plain[step], run1[step], run2[step]]).size).toBe(3);
    }
    const inputOf = (runId?: string) => {
      const jobs = stepJobs(synth((app) => chain(app, { runId })).objects);
      const env = jobs.train.spec.template.spec.containers[0].env;
      return { path: env.find((e: any) => e.name === 'MLOPS_INPUT_DATA').value, producer: jobs.prep.metadata.name };
    };
    const r1 = inputOf('r1');
    expect(r1.path).toBe(`/mnt/workspace/chain/prep-${r1.producer.split('-').pop()}/data`);
    expect(inputOf('r2').path).not.toBe(r1.path);
    expect(inputOf().path).not.toBe(r1.path);
  });

  test('steps inside a reusable construct are named by their path below the pipeline', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    const { Construct } = require('constructs');
    const group = new Construct(pipeline, 'tuning');
    new ContainerStep(group, 'fit');
    const step = Testing.synth(pipeline).find((o) => o.metadata.labels?.['mlops.cdk8s.io/step']);
    expect(step.metadata.labels['mlops.cdk8s.io/step']).toBe('tuning-fit');
    expect(step.metadata.name).toMatch(/^p-tuning-fit-[0-9a-f]{8}$/);
  });

  test('changing the TTL, a mutable field, renames no Job and so re-runs nothing', () => {
    const jobNames = (ttl?: Duration) => {
      const app = Testing.app();
      const p = new Pipeline(app, 'p', { ttlAfterFinished: ttl, defaults: { image: 'busybox:1.36' } });
      new ContainerStep(p, 'a');
      return Object.values(stepJobs(Testing.synth(p))).map((j) => [j.metadata.name, j.spec.ttlSecondsAfterFinished]);
    };
    const [[name1, ttl1]] = jobNames(Duration.hours(1));
    const [[name2, ttl2]] = jobNames(Duration.days(2));
    const [[name3, ttl3]] = jobNames();
    expect(new Set([name1, name2, name3]).size).toBe(1);
    expect([ttl1, ttl2, ttl3]).toEqual([3600, 172800, undefined]);
  });
});
