import { Testing } from 'cdk8s';
import { ContainerStep, Dataset, Pipeline, TriggerRule } from '../../src';
import { envOf, findOne, K8sObject, stepJobs } from '../support/synth';

function planOf(objects: K8sObject[]): string[][] {
  const cm = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator');
  return cm.data.plan.trimEnd().split('\n').map((line: string) => line.split('\t'));
}

/** A diamond: prep feeds a and b, and four joins wait for both under each rule. */
function diamond(app = Testing.app()) {
  const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
  const prep = new ContainerStep(pipeline, 'prep', { outputs: { rows: Dataset } });
  const a = new ContainerStep(pipeline, 'a', { inputs: { rows: prep.outputs.rows } });
  const b = new ContainerStep(pipeline, 'b', { inputs: { rows: prep.outputs.rows } });
  for (const trigger of [TriggerRule.ALL_SUCCEEDED, TriggerRule.ALL_DONE, TriggerRule.ONE_FAILED, TriggerRule.NONE_FAILED]) {
    new ContainerStep(pipeline, `join-${trigger}`, { after: [a, b], trigger });
  }
  return pipeline;
}

describe('trigger rules and exit handlers in the plan and the pods', () => {
  test('each step\'s trigger rule is column 4 of its plan line; the default leaves the line at three columns', () => {
    const plan = planOf(Testing.synth(diamond()));
    expect(plan.map(([step, , up, ...rest]) => [step, up, ...rest])).toEqual([
      ['prep', '-'],
      ['a', 'prep'],
      ['b', 'prep'],
      ['join-all-succeeded', 'a,b'],
      ['join-all-done', 'a,b', 'all-done'],
      ['join-one-failed', 'a,b', 'one-failed'],
      ['join-none-failed', 'a,b', 'none-failed'],
    ]);
  });

  test('the trigger rule decides when a step runs, not what it runs: it is outside the Job\'s hash', () => {
    const app = Testing.app();
    const one = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    new ContainerStep(one, 'clean', { after: [new ContainerStep(one, 'a')], trigger: TriggerRule.ALL_DONE });
    const two = new Pipeline(Testing.app(), 'p', { defaults: { image: 'busybox:1.36' } });
    new ContainerStep(two, 'clean', { after: [new ContainerStep(two, 'a')] });
    expect(stepJobs(Testing.synth(one)).clean.metadata.name).toBe(stepJobs(Testing.synth(two)).clean.metadata.name);
  });

  test('exit handlers come last in the plan with rule exit and no upstream, and read the run\'s outcome from their own annotations', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p', { defaults: { image: 'busybox:1.36' } });
    const notify = new ContainerStep(pipeline, 'notify', { command: ['notify.sh'] });
    const audit = new ContainerStep(pipeline, 'audit', { mlopsEnv: false });
    const train = new ContainerStep(pipeline, 'train');
    new ContainerStep(pipeline, 'evaluate', { after: [train] });
    pipeline.onExit(notify, audit);
    expect(pipeline.exitHandlers).toEqual([notify, audit]);
    const objects = Testing.synth(pipeline);
    const plan = planOf(objects);
    expect(plan.map(([step, , up, rule]) => [step, up, rule])).toEqual([
      ['train', '-', undefined], ['evaluate', 'train', undefined], ['notify', '-', 'exit'], ['audit', '-', 'exit'],
    ]);
    const jobs = stepJobs(objects);
    expect(jobs.notify.metadata.annotations?.['mlops.cdk8s.io/depends-on']).toBeUndefined();
    expect(jobs.notify.spec.suspend).toBe(true);
    const env = envOf(jobs.notify.spec.template.spec.containers[0]);
    expect(env.MLOPS_RUN_STATUS).toEqual({ fieldRef: { fieldPath: "metadata.annotations['mlops.cdk8s.io/run-status']" } });
    expect(env.MLOPS_RUN_FAILURES).toEqual({ fieldRef: { fieldPath: "metadata.annotations['mlops.cdk8s.io/run-failures']" } });
    // Not declared in the template: the coordinator writes them, and a re-apply must not reset them.
    expect(jobs.notify.spec.template.metadata.annotations).toBeUndefined();
    // Asked for by being a handler, so they stay when the MLOPS_* locations are turned off.
    expect(Object.keys(envOf(jobs.audit.spec.template.spec.containers[0]))).toEqual(['HOME', 'MLOPS_RUN_STATUS', 'MLOPS_RUN_FAILURES']);
    expect(envOf(jobs.train.spec.template.spec.containers[0]).MLOPS_RUN_STATUS).toBeUndefined();
  });

  test('a handler runs again when any step changes, though it waits for none', () => {
    const build = (trainImage: string) => {
      const pipeline = new Pipeline(Testing.app(), 'p', { defaults: { image: 'busybox:1.36' } });
      new ContainerStep(pipeline, 'train', { image: trainImage });
      pipeline.onExit(new ContainerStep(pipeline, 'notify'));
      return stepJobs(Testing.synth(pipeline));
    };
    const before = build('trainer:1');
    const after = build('trainer:2');
    expect(after.train.metadata.name).not.toBe(before.train.metadata.name);
    expect(after.notify.metadata.name).not.toBe(before.notify.metadata.name);
    expect(build('trainer:1').notify.metadata.name).toBe(before.notify.metadata.name);
  });
});
