import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { sweepPipeline } from '../../examples/sweep/pipeline';
import { envOf, findOne, stepJobs, synth } from '../support/synth';
import { selectContainer } from './run-selection';

describe('the sweep example', () => {
  const { objects } = synth(sweepPipeline);
  const jobs = stepJobs(objects);

  test('12 random trials on a GPU each, at most 3 at once, a budget of 2, then the selection and the export', () => {
    const plan = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator').data.plan;
    const lines = plan.trimEnd().split('\n').map((l: string) => l.split('\t'));
    const trials = lines.filter((l: string[]) => l[0].startsWith('tune-trial-'));
    expect(trials).toHaveLength(12);
    for (const l of trials) expect([l[2], l[7], l[8]]).toEqual(['split', 'tune:2', 'tune:3']);
    expect(lines.slice(-2).map((l: string[]) => [l[0], l[3] ?? 'all-succeeded'])).toEqual([['tune-select', 'all-done'], ['export', 'all-succeeded']]);
    // export runs only when the winner's AUC reaches 0.8, and reads it as MLOPS_VALUE_AUC.
    expect(lines[lines.length - 1].slice(5)).toEqual(['{"left":{"step":"tune-select","value":"best"},"op":">=","right":{"const":0.8}}', 'auc=tune-select.best']);
    expect(jobs.export.spec.template.spec.containers[0].command).toEqual(['python', '-m', 'trainer.export', '--format', 'onnx', '--auc', '$(MLOPS_VALUE_AUC)']);
    const params = Array.from({ length: 12 }, (_, i) => JSON.parse(envOf(jobs[`tune-trial-${i}`].spec.template.spec.containers[0]).MLOPS_ITEM));
    expect(new Set(params.map((p) => JSON.stringify(p))).size).toBe(12);
    expect(jobs['tune-trial-0'].spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(jobs['tune-trial-0'].spec.template.spec.containers[0].args).toEqual(
      ['--learning-rate', '$(MLOPS_PARAM_LEARNING_RATE)', '--max-depth', '$(MLOPS_PARAM_MAX_DEPTH)', '--optimizer', '$(MLOPS_PARAM_OPTIMIZER)']);
    const select = envOf(selectContainer(jobs['tune-select']));
    expect(select).toMatchObject({ MLOPS_SELECT_METRIC: 'auc', MLOPS_SELECT_DIRECTION: 'maximize', MLOPS_SELECT_FAILURE_BUDGET: '2' });
    expect(envOf(jobs.export.spec.template.spec.containers[0]).MLOPS_INPUT_MODEL).toBe(select.MLOPS_OUTPUT_MODEL);
  });

  test('its README shows the diagram the pipeline draws', () => {
    const readme = readFileSync(join(__dirname, '../../examples/sweep/README.md'), 'utf8');
    expect(/```mermaid\n([\s\S]*?)```/.exec(readme)![1]).toBe(sweepPipeline(Testing.app()).toMermaid());
  });
});
