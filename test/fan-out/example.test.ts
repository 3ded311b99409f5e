import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { fanOutPipeline, REGIONS } from '../../examples/fanout/pipeline';
import { envOf, findOne, stepJobs, synth } from '../support/synth';

describe('the fan-out example', () => {
  const { objects } = synth(fanOutPipeline);
  const jobs = stepJobs(objects);

  test('fits one forecast per region, two at a time, and publishes a folder per region', () => {
    const plan = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator').data.plan;
    expect(plan.trimEnd().split('\n').map((l: string) => l.split('\t')).map((l: string[]) => [l[0], l[2], l[8] ?? '-'])).toEqual([
      ['extract', '-', '-'],
      ['fit-0', 'extract', 'fit:2'],
      ['fit-1', 'extract', 'fit:2'],
      ['fit-2', 'extract', 'fit:2'],
      ['publish', 'fit-0,fit-1,fit-2', '-'],
    ]);
    const envs = [0, 1, 2].map((i) => envOf(jobs[`fit-${i}`].spec.template.spec.containers[0]));
    expect(envs.map((e) => [e.MLOPS_ITEM_REGION, e.MLOPS_ITEM_CURRENCY])).toEqual(REGIONS.map((r) => [r.region, r.currency]));
    const forecasts = envOf(jobs.publish.spec.template.spec.containers[0]).MLOPS_INPUT_FORECASTS;
    expect(envs.map((e) => e.MLOPS_OUTPUT_FORECAST)).toEqual([0, 1, 2].map((i) => `${forecasts}/${i}`));
  });

  test('its README shows the diagram the pipeline draws', () => {
    const readme = readFileSync(join(__dirname, '../../examples/fanout/README.md'), 'utf8');
    const block = /```mermaid\n([\s\S]*?)```/.exec(readme)![1];
    expect(block).toBe(fanOutPipeline(Testing.app()).toMermaid());
  });
});
