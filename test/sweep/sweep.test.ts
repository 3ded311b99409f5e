import { Testing } from 'cdk8s';
import { ContainerStep, Dataset, Model, NumberValue, Objective, Param, Pipeline, SearchSpace, StringValue, StructuredValue, Sweep } from '../../src';
import { envOf, findOne, K8sObject, stepJobs, synth } from '../support/synth';
import { selectContainer } from './run-selection';

const image = 'busybox:1.36';

function planOf(objects: K8sObject[]): string[][] {
  return findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator').data.plan.trimEnd().split('\n').map((l: string) => l.split('\t'));
}

function randomSweep(seed: number) {
  return synth((app) => {
    const p = new Pipeline(app, 'p', { defaults: { image } });
    const data = new ContainerStep(p, 'data', { outputs: { rows: Dataset } });
    const tune = new Sweep(p, 'tune', {
      space: SearchSpace.random({ lr: Param.logUniform(1e-4, 1e-1), depth: Param.integer(2, 9), opt: Param.choice(['adam', 'sgd']), drop: Param.uniform(0, 0.5) }, { trials: 5, seed }),
      parallelism: 2,
      failureBudget: 1,
      metrics: ['auc'],
      objective: Objective.maximize('auc'),
      args: ['--lr', '$(MLOPS_PARAM_LR)'],
      inputs: { rows: data.outputs.rows },
    });
    new ContainerStep(p, 'export', { inputs: { model: tune.model } });
  }).objects;
}

describe('Sweep', () => {
  test('a seeded random search: the same seed writes the same YAML, another seed other trials; values within their ranges', () => {
    const [a, b, c] = [randomSweep(7), randomSweep(7), randomSweep(8)];
    expect(b).toEqual(a);
    const params = (objects: K8sObject[]) => [0, 1, 2, 3, 4].map((i) => JSON.parse(envOf(stepJobs(objects)[`tune-trial-${i}`].spec.template.spec.containers[0]).MLOPS_ITEM));
    expect(params(c)).not.toEqual(params(a));
    for (const t of params(a)) {
      expect(t.lr).toBeGreaterThanOrEqual(1e-4);
      expect(t.lr).toBeLessThan(1e-1);
      expect(Number.isInteger(t.depth) && t.depth >= 2 && t.depth <= 9).toBe(true);
      expect(['adam', 'sgd']).toContain(t.opt);
      expect(t.drop).toBeGreaterThanOrEqual(0);
      expect(t.drop).toBeLessThan(0.5);
    }
    expect(new Set(params(a).map((t) => JSON.stringify(t))).size).toBe(5);
  });

  test('each trial gets its parameters as env, writes its model and metrics into its folder; the plan budgets and caps the trials', () => {
    const objects = randomSweep(7);
    const jobs = stepJobs(objects);
    const env = envOf(jobs['tune-trial-3'].spec.template.spec.containers[0]);
    const item = JSON.parse(env.MLOPS_ITEM);
    expect(env).toMatchObject({ MLOPS_ITEM_INDEX: '3', MLOPS_PARAM_LR: String(item.lr), MLOPS_PARAM_DEPTH: String(item.depth), MLOPS_PARAM_OPT: item.opt });
    const select = envOf(selectContainer(jobs['tune-select']));
    expect(env.MLOPS_OUTPUT_MODEL).toBe(`${select.MLOPS_INPUT_MODELS}/3`);
    expect(env.MLOPS_OUTPUT_METRICS).toBe(`${select.MLOPS_INPUT_METRICS}/3`);
    expect(planOf(objects).map((l) => [l[0], l[3] ?? 'all-succeeded', l[7] ?? '-', l[8] ?? '-'])).toEqual([
      ['data', 'all-succeeded', '-', '-'],
      ...[0, 1, 2, 3, 4].map((i) => [`tune-trial-${i}`, 'all-succeeded', 'tune:1', 'tune:2']),
      ['tune-select', 'all-done', '-', '-'],
      ['export', 'all-succeeded', '-', '-'],
    ]);
  });

  test('the selection step runs the library script on the utility image, reads the trials\' states from its pod, and its model feeds downstream', () => {
    const objects = randomSweep(7);
    const jobs = stepJobs(objects);
    const c = selectContainer(jobs['tune-select']);
    expect(c.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(c.command).toEqual(['/bin/bash', '/etc/mlops/select-best.sh']);
    const volume = jobs['tune-select'].spec.template.spec.volumes.find((v: K8sObject) => v.name === 'library-script');
    const script = findOne(objects, 'ConfigMap', (o) => o.metadata.name === volume.configMap.name);
    expect(script.metadata.name).toMatch(/^p-select-best-[0-9a-f]{8}$/);
    expect(script.data['select-best.sh']).toContain('cdk8s-mlops sweep selection');
    expect(c.volumeMounts).toContainEqual({ name: 'library-script', mountPath: '/etc/mlops', readOnly: true });
    const env = envOf(c);
    expect(env).toMatchObject({ MLOPS_SELECT_METRIC: 'auc', MLOPS_SELECT_DIRECTION: 'maximize', MLOPS_SELECT_FAILURE_BUDGET: '1' });
    expect(JSON.parse(env.MLOPS_SELECT_TRIALS).map((t: any) => t.step)).toEqual([0, 1, 2, 3, 4].map((i) => `tune-trial-${i}`));
    expect(env.MLOPS_UPSTREAM_STATES).toEqual({ fieldRef: { fieldPath: "metadata.annotations['mlops.cdk8s.io/upstream-states']" } });
    expect(envOf(jobs.export.spec.template.spec.containers[0]).MLOPS_INPUT_MODEL).toBe(env.MLOPS_OUTPUT_MODEL);
  });

  test('the winner is the selection\'s values: the select container writes them, the values reporter (the main container) puts them on the Job', () => {
    const objects = randomSweep(7);
    const job = stepJobs(objects)['tune-select'];
    const pod = job.spec.template.spec;
    expect(pod.initContainers.map((c: K8sObject) => c.name)).toEqual(['prepare-outputs', 'select']);
    expect(pod.containers.map((c: K8sObject) => c.name)).toEqual(['report-values']);
    expect(envOf(selectContainer(job)).MLOPS_VALUES).toBe('/mnt/values');
    expect(JSON.parse(envOf(pod.containers[0]).MLOPS_VALUE_TYPES)).toEqual({ best: 'number', best_trial: 'number', best_params: 'json' });
    expect(pod.serviceAccountName).toBe('p-reporter');
    const role = findOne(objects, 'Role', (o) => o.metadata.name.startsWith('p-reporter-'));
    expect(role.rules[0].resourceNames).toEqual([job.metadata.name]);
  });

  test('a later step reads the winning metric and runs only when it is good enough: plan columns 6 and 7 name the selection\'s value', () => {
    const { objects } = synth((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const tune = new Sweep(p, 'tune', { space: SearchSpace.grid({ lr: [0.1, 0.01] }), metrics: ['auc'], objective: Objective.maximize('auc') });
      const best: NumberValue = tune.bestValue;
      const params: StructuredValue = tune.bestParams;
      expect([best.producer, tune.bestTrial.producer, params.producer]).toEqual([tune.selection, tune.selection, tune.selection]);
      expect([best.name, tune.bestTrial.name, params.name]).toEqual(['best', 'best_trial', 'best_params']);
      new ContainerStep(p, 'deploy', {
        inputs: { model: tune.model },
        inputValueKinds: { auc: NumberValue, params: StructuredValue },
        inputValues: { auc: tune.bestValue, params: tune.bestParams },
        when: tune.bestValue.atLeast(0.8),
      });
    });
    const plan = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator').data.plan as string;
    const deploy = plan.split('\n').find((l) => l.startsWith('deploy\t'))!.split('\t');
    expect(deploy.slice(2)).toEqual(['tune-select', 'all-succeeded', 'job', '{"left":{"step":"tune-select","value":"best"},"op":">=","right":{"const":0.8}}',
      'auc=tune-select.best,params=tune-select.best_params']);
    const env = envOf(stepJobs(objects).deploy.spec.template.spec.containers[0]);
    expect(env.MLOPS_VALUE_AUC).toEqual({ fieldRef: { fieldPath: "metadata.annotations['in.mlops.cdk8s.io/auc']" } });
    expect(env.MLOPS_VALUE_PARAMS).toEqual({ fieldRef: { fieldPath: "metadata.annotations['in.mlops.cdk8s.io/params']" } });
  });

  test('a grid runs every combination in order, the first parameter varying slowest', () => {
    const { objects } = synth((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const tune = new Sweep(p, 'tune', {
        space: SearchSpace.grid({ lr: [0.1, 0.01], depth: [4, 8, 16], opt: ['adam'] }),
        metrics: ['loss'],
        objective: Objective.minimize('loss'),
      });
      const model: Model = tune.model;
      expect(tune.trials).toHaveLength(6);
      expect(model.producer).toBe(tune.selection);
    });
    const items = [0, 1, 2, 3, 4, 5].map((i) => envOf(stepJobs(objects)[`tune-trial-${i}`].spec.template.spec.containers[0]).MLOPS_ITEM);
    expect(items).toEqual([
      '{"lr":0.1,"depth":4,"opt":"adam"}', '{"lr":0.1,"depth":8,"opt":"adam"}', '{"lr":0.1,"depth":16,"opt":"adam"}',
      '{"lr":0.01,"depth":4,"opt":"adam"}', '{"lr":0.01,"depth":8,"opt":"adam"}', '{"lr":0.01,"depth":16,"opt":"adam"}',
    ]);
  });
});

describe('the winner\'s values are typed', () => {
  // The @ts-expect-error lines are checked by `tsc` in `npm test`: each must really be an error.
  test('comparing the winning metric with a string, or wiring it where a string is expected, does not compile, and fails naming the construct path and the fix', () => {
    const p = new Pipeline(Testing.app(), 'p', { defaults: { image } });
    const tune = new Sweep(p, 'tune', { space: SearchSpace.grid({ lr: [0.1, 0.01] }), metrics: ['auc'], objective: Objective.maximize('auc') });
    // @ts-expect-error the winning metric is a number: a string constant does not compile
    expect(() => tune.bestValue.atLeast('0.8')).toThrow(
      "[p/tune/select] value 'best' is a number: atLeast() compares it with a number or another NumberValue, got string '0.8'; pass a number, e.g. atLeast(0.8)");
    // @ts-expect-error a NumberValue wired where the step declared a StringValue
    expect(() => new ContainerStep(p, 'deploy', { inputValueKinds: { auc: StringValue }, inputValues: { auc: tune.bestValue } })).toThrow(
      "[p/deploy] input value 'auc' must be a StringValue, got the number value p/tune/select.best; wire a value of that type or change 'inputValueKinds'");
    // @ts-expect-error the winner's parameters are JSON, which conditions do not compare
    expect(tune.bestParams.equals).toBeUndefined();
  });
});
