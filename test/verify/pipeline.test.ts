import { verifyObjects } from '../../src/verify';
import { parsePlan } from '../../src/verify/pipeline';
import { COORDINATOR, find, jobName, Obj, planText, STEPS, validSet } from './fixtures';

function problems(objects: Obj[]) {
  return verifyObjects(objects).problems.map((p) => ({ object: p.object, path: p.path, message: p.message, severity: p.severity, rule: p.rule }));
}

const DEPENDS_ON = '/metadata/annotations/mlops.cdk8s.io~1depends-on';
const CM = `ConfigMap/ml/${COORDINATOR}`;
const job = (step: string) => `Job/ml/${jobName(step)}`;

function setDependsOn(set: Obj[], step: string, value: string): void {
  find(set, 'Job', jobName(step)).metadata.annotations = { 'mlops.cdk8s.io/depends-on': value };
}

describe('pipeline checks', () => {
  test('depends-on naming a step that is not in the pipeline', () => {
    const set = validSet();
    setDependsOn(set, 'train', 'feature,stats');
    const found = problems(set);
    expect(found[0]).toEqual({
      object: job('train'), path: DEPENDS_ON, severity: 'error', rule: 'pipeline/unknown-step',
      message: `${job('train')}: depends-on names step "feature", which is not a step of pipeline "churn" (steps: evaluate, features, ingest, stats, train); fix the annotation at ${DEPENDS_ON} or add a Job labelled mlops.cdk8s.io/step: feature`,
    });
    // The coordinator plan still says features,stats: that disagreement is reported too.
    expect(found.slice(1).map((p) => p.rule)).toEqual(['pipeline/plan']);
  });

  test('a step of another pipeline does not count', () => {
    const set = validSet();
    const other = find(set, 'Job', jobName('stats'));
    other.metadata.labels['mlops.cdk8s.io/pipeline'] = 'other';
    other.spec.template.metadata.labels['mlops.cdk8s.io/pipeline'] = 'other';
    expect(problems(set).filter((p) => p.rule === 'pipeline/unknown-step').map((p) => p.message.slice(0, p.message.indexOf(';')))).toEqual([
      `${job('stats')}: depends-on names step "ingest", which is not a step of pipeline "other" (steps: stats)`,
      `${job('train')}: depends-on names step "stats", which is not a step of pipeline "churn" (steps: evaluate, features, ingest, train)`,
    ]);
  });

  test('a dependency cycle is printed as a => b => a', () => {
    const steps = [{ step: 'a', after: ['b'] }, { step: 'b', after: ['a'] }, { step: 'c', after: ['b'] }];
    const set = validSet(steps);
    const cycles = problems(set).filter((p) => p.rule === 'pipeline/cycle');
    expect(cycles).toEqual([{
      object: job('a'), path: DEPENDS_ON, severity: 'error', rule: 'pipeline/cycle',
      message: `${job('a')}: dependency cycle in pipeline "churn": a => b => a (read "a => b" as "b depends on a"), so none of these steps can ever start; remove one of these dependencies`,
    }]);
  });

  test('a longer cycle and a self-dependency are each reported once', () => {
    const steps = [
      { step: 'ingest' }, { step: 'x', after: ['ingest', 'z'] }, { step: 'y', after: ['x'] }, { step: 'z', after: ['y'] },
      { step: 'self', after: ['self'] },
    ];
    const msgs = problems(validSet(steps)).filter((p) => p.rule === 'pipeline/cycle').map((p) => p.message.match(/: ([^:]+) \(read/)![1]);
    // Ordered like the input: problems follow the position of the Job they are reported on.
    expect(msgs).toEqual(['x => y => z => x', 'self => self']);
  });

  test('the coordinator plan must agree with the Jobs', () => {
    const set = validSet();
    const cm = find(set, 'ConfigMap', COORDINATOR);
    cm.data.plan = [
      `ingest\t${jobName('ingest')}\t-`,
      `stats\t${jobName('stats')}\tingest`,
      `train\tchurn-train-ffffffff\tfeatures,stats`,
      `features\t${jobName('features')}\tingest,stats`,
      'evaluate only two fields',
      `ghost\tchurn-ghost-00000000\t-`,
    ].join('\n');
    expect(problems(set).map((p) => [p.object, p.message])).toEqual([
      [job('evaluate'), `${job('evaluate')}: step "evaluate" is missing from the plan of ConfigMap ${COORDINATOR}, so the coordinator never releases it; re-apply the Jobs and the ConfigMap from the same synth`],
      [CM, `${CM}: plan line 5 "evaluate only two fields" is not "<step>\\t<job>\\t<upstreams or ->"; separate the three fields with single tabs`],
      [CM, `${CM}: plan line 3 says step "train" runs Job "churn-train-ffffffff", but the Job of that step is "${jobName('train')}"; re-apply the Jobs and the ConfigMap from the same synth`],
      [CM, `${CM}: plan line 3 lists step "train" before its upstream "features" (line 4); the plan must be in topological order`],
      [CM, `${CM}: plan line 4 says step "features" waits for ingest,stats, but Job ${jobName('features')} annotates depends-on ingest; re-apply the Jobs and the ConfigMap from the same synth`],
      [CM, `${CM}: plan line 6 names step "ghost", but no Job of pipeline "churn" has label mlops.cdk8s.io/step: ghost; re-apply the Jobs and the ConfigMap from the same synth`],
    ]);
  });

  test('plan lines may carry the optional columns of docs/coordinator-contract.md, with defaults when absent', () => {
    const set = validSet();
    const cm = find(set, 'ConfigMap', COORDINATOR);
    cm.data.plan = cm.data.plan.replace(/^(evaluate\t[^\n]*)$/m, '$1\tall-done\tgate\t{"left":{"step":"train","value":"auc"},"op":">","right":{"const":0.5}}');
    expect(problems(set)).toEqual([]);
    const lines = parsePlan(cm.data.plan).lines;
    expect(lines.find((l) => l.step === 'evaluate')).toMatchObject({
      trigger: 'all-done', kind: 'gate', condition: '{"left":{"step":"train","value":"auc"},"op":">","right":{"const":0.5}}',
    });
    expect(lines.find((l) => l.step === 'train')).toMatchObject({ trigger: 'all-succeeded', kind: 'job', condition: undefined });
  });

  test('the fixture plan text is what the checks expect', () => {
    expect(planText(STEPS)).toBe([
      `ingest\t${jobName('ingest')}\t-`,
      `features\t${jobName('features')}\tingest`,
      `stats\t${jobName('stats')}\tingest`,
      `train\t${jobName('train')}\tfeatures,stats`,
      `evaluate\t${jobName('evaluate')}\ttrain`,
    ].join('\n') + '\n');
  });

  test('a step Job that is not suspended', () => {
    const set = validSet();
    find(set, 'Job', jobName('train')).spec.suspend = false;
    delete find(set, 'Job', jobName('ingest')).spec.suspend;
    expect(problems(set).map((p) => [p.severity, p.message])).toEqual([
      ['warning', `${job('ingest')}: step "ingest" is not created suspended (spec.suspend is undefined), so it starts without the coordinator and bypasses MLOPS_MAX_PARALLEL; set spec.suspend: true; the coordinator releases it`],
      ['error', `${job('train')}: step "train" is not created suspended (spec.suspend is false), so it starts before its upstream steps features, stats complete; set spec.suspend: true; the coordinator releases it`],
    ]);
  });

  test('a pipeline without coordinator, or with two', () => {
    const without = validSet().filter((o) => !(o.kind === 'Job' && o.metadata.name === COORDINATOR));
    // Reported on the step that sorts first by name.
    expect(problems(without).map((p) => p.message)).toEqual([
      `${job('evaluate')}: pipeline "churn" has step Jobs but no coordinator Job (a Job labelled mlops.cdk8s.io/role: coordinator), so its suspended steps never start; apply the coordinator Job synthesized with the pipeline`,
    ]);
    const twice = validSet();
    const copy = JSON.parse(JSON.stringify(find(twice, 'Job', COORDINATOR)));
    copy.metadata.name = 'churn-coordinator-00000000';
    twice.push(copy);
    expect(problems(twice).filter((p) => p.rule === 'pipeline/coordinator').map((p) => p.object)).toEqual(['Job/ml/churn-coordinator-00000000']);
  });

  test('the coordinator environment names its pipeline and itself', () => {
    const set = validSet();
    const env = find(set, 'Job', COORDINATOR).spec.template.spec.containers[0].env;
    env.find((e: Obj) => e.name === 'MLOPS_SELF').value = 'churn-coordinator';
    expect(problems(set)).toEqual([expect.objectContaining({
      path: '/spec/template/spec/containers/0/env/2/value',
      message: `Job/ml/${COORDINATOR}: MLOPS_SELF is "churn-coordinator" but should be "${COORDINATOR}", so the coordinator would watch the wrong Jobs; set it to "${COORDINATOR}"`,
    })]);
  });

  test('the coordinator Role must let it list Jobs, and get and patch every step', () => {
    const set = validSet();
    const role = find(set, 'Role', 'churn-coordinator');
    role.rules[1].resourceNames = role.rules[1].resourceNames.filter((n: string) => n !== jobName('evaluate') && n !== COORDINATOR);
    role.rules[0].resourceNames = [jobName('ingest')];
    expect(problems(set).map((p) => p.message)).toEqual([
      `Job/ml/${COORDINATOR}: the coordinator's ServiceAccount "churn-coordinator" may not list batch/jobs in namespace ml, so it cannot see its steps; grant "list" on "jobs" in apiGroup "batch" without resourceNames (list cannot be restricted by name)`,
      `Job/ml/${COORDINATOR}: the coordinator's ServiceAccount "churn-coordinator" may not get Jobs ${jobName('evaluate')}, ${COORDINATOR}, so it cannot release or mark them (kubectl patch reads the Job before it patches it); add the names to the resourceNames of the rule on batch/jobs that grants "get" and "patch"`,
      `Job/ml/${COORDINATOR}: the coordinator's ServiceAccount "churn-coordinator" may not patch Jobs ${jobName('evaluate')}, ${COORDINATOR}, so it cannot release or mark them; add the names to the resourceNames of the rule on batch/jobs that grants "get" and "patch"`,
    ]);
    // Patch without get is not enough: kubectl patch is refused on its GET.
    role.rules = [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'patch'] }];
    expect(problems(set).map((p) => p.message)).toEqual([
      expect.stringContaining(`may not get Jobs ${jobName('evaluate')}, `),
    ]);
    role.rules = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];
    expect(problems(set)).toEqual([]);
  });

  test('no plan ConfigMap', () => {
    const set = validSet().filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === COORDINATOR));
    const found = problems(set);
    expect(found.map((p) => p.rule)).toEqual(['reference/configmap', 'pipeline/no-plan']);
  });

  test('a duplicate step id', () => {
    const set = validSet();
    const copy = JSON.parse(JSON.stringify(find(set, 'Job', jobName('train'))));
    copy.metadata.name = 'churn-train-11111111';
    set.push(copy);
    expect(problems(set).map((p) => p.message)).toEqual([
      `Job/ml/churn-train-11111111: step "train" of pipeline "churn" already has Job ${jobName('train')}; each step has exactly one Job; remove the stale Job (an older hash?) or give the step another id`,
    ]);
  });
});
