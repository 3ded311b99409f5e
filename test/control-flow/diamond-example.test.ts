import { readFileSync } from 'fs';
import { join } from 'path';
import { App } from 'cdk8s';
import { diamondPipeline } from '../../examples/diamond/pipeline';
import { envOf, findOne, stepJobs, synth } from '../support/synth';

describe('the diamond example', () => {
  const { objects } = synth(diamondPipeline);
  const jobs = stepJobs(objects);

  test('its plan releases cleanup whatever happened, page-oncall on a failure, publish or flag-for-review by the AUC, announce after either, and notify last', () => {
    const cm = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator');
    const plan = cm.data.plan.trimEnd().split('\n').map((l: string) => l.split('\t'))
      .map(([step, , up, rule, , condition, values]: string[]) => [step, up, rule ?? 'all-succeeded', condition ?? '-', values ?? '-']);
    expect(plan).toEqual([
      ['prepare', '-', 'all-succeeded', '-', '-'],
      ['train-trees', 'prepare', 'all-succeeded', '-', '-'],
      ['train-linear', 'prepare', 'all-succeeded', '-', '-'],
      ['compare', 'train-linear,train-trees', 'all-succeeded', '-', '-'],
      ['publish', 'compare', 'all-succeeded', '{"left":{"step":"compare","value":"auc"},"op":">=","right":{"const":0.8}}', 'winner=compare.winner'],
      ['flag-for-review', 'compare', 'all-succeeded', '{"left":{"step":"compare","value":"auc"},"op":"<","right":{"const":0.8}}', 'winner=compare.winner,auc=compare.auc'],
      ['announce', 'flag-for-review,publish', 'none-failed', '-', '-'],
      ['cleanup', 'train-linear,train-trees', 'all-done', '-', '-'],
      ['page-oncall', 'train-linear,train-trees', 'one-failed', '-', '-'],
      ['notify', '-', 'exit', '-', '-'],
    ]);
    const notify = jobs.notify.spec.template.spec.containers[0];
    expect(envOf(notify).MLOPS_RUN_STATUS).toEqual({ fieldRef: { fieldPath: "metadata.annotations['mlops.cdk8s.io/run-status']" } });
  });

  test('compare reports its values through the library container; publish reads the winner in its env and args', () => {
    const compare = jobs.compare.spec.template.spec;
    expect(compare.initContainers.map((c: any) => c.name)).toEqual(['prepare-outputs', 'main']);
    expect(JSON.parse(envOf(compare.containers[0]).MLOPS_VALUE_TYPES)).toEqual({ winner: 'string', auc: 'number' });
    const publish = jobs.publish.spec.template.spec.containers[0];
    expect(envOf(publish).MLOPS_VALUE_WINNER).toEqual({ fieldRef: { fieldPath: "metadata.annotations['in.mlops.cdk8s.io/winner']" } });
    expect(publish.args).toEqual(['--family', '$(MLOPS_VALUE_WINNER)']);
  });

  test('its README shows the pipeline as toMermaid() draws it, with the conditions on the edges', () => {
    const readme = readFileSync(join(__dirname, '../../examples/diamond/README.md'), 'utf8');
    const mermaid = diamondPipeline(new App()).toMermaid();
    expect(readme).toContain(`\`\`\`mermaid\n${mermaid}\`\`\``);
    expect(mermaid).toContain('n4 -->|"if compare.auc #62;= 0.8"| n7');
  });
});
