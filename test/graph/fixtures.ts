/**
 * Manifests for the graph command: the verify fixtures' pipeline with a gate, a condition
 * and an exit handler in its plan (docs/coordinator-contract.md columns 4 to 6), and a
 * pipeline whose names are hostile markup.
 */
import { stringify } from 'yaml';
import { COORDINATOR, Obj, STEPS, StepSpec, stepJob, validSet } from '../verify/fixtures';

export const FLOW_STEPS: StepSpec[] = [...STEPS, { step: 'deploy', after: ['evaluate'] }, { step: 'notify' }];

/** Columns 4 to 6 of the plan lines that are not all defaults. */
const COLUMNS: Record<string, string> = {
  evaluate: 'all-succeeded\tgate',
  deploy: 'all-succeeded\tjob\t{"left":{"step":"evaluate","value":"auc"},"op":">=","right":{"const":0.8}}',
  notify: 'exit',
};

/** The verify fixtures' pipeline (with its serving stack), evaluate a gate, deploy conditional, notify an exit handler. */
export function flowSet(): Obj[] {
  const objects = validSet(FLOW_STEPS);
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === COORDINATOR)!;
  cm.data.plan = (cm.data.plan as string).trim().split('\n')
    .map((line) => (COLUMNS[line.split('\t')[0]] ? `${line}\t${COLUMNS[line.split('\t')[0]]}` : line)).join('\n') + '\n';
  return objects;
}

/** Markup that would run if a report let it through unescaped. */
export const HOSTILE_STEP = '<img src=x onerror="document.title=\'owned\'">';
export const HOSTILE_PIPELINE = '../</title><script>document.title="owned"</script>';
export const HOSTILE_IMAGE = 'evil:1"/><script>document.title="owned"</script>';

/** A pipeline of two steps whose names, labels and image are hostile markup. */
export function hostileSet(): Obj[] {
  const jobs = [stepJob({ step: 'first' }), stepJob({ step: 'second', after: ['first'] })];
  for (const job of jobs) job.metadata.labels['mlops.cdk8s.io/pipeline'] = HOSTILE_PIPELINE;
  jobs[0].metadata.labels['mlops.cdk8s.io/step'] = HOSTILE_STEP;
  jobs[1].metadata.annotations['mlops.cdk8s.io/depends-on'] = HOSTILE_STEP;
  jobs[0].spec.template.spec.containers[0].image = HOSTILE_IMAGE;
  return jobs;
}

export function yamlOf(objects: Obj[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}
