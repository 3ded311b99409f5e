import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Model, NumberValue, Pipeline, PlainBackend, StringValue, TriggerRule } from '../../src';
import { ManifestObject, simulate, StepBehaviour } from '../../src/verify/simulator';
import { expectClean } from '../simulation/fixtures';
import { branchPipeline } from './fixtures';

/**
 * Values and conditions at run time, in the simulated cluster with the real kubectl: the
 * coordinator's script decides, the reporter's script writes the values on its Job.
 */
function produces(values: Record<string, string>, durations: number[] = [10]): StepBehaviour {
  return { durations, files: Object.fromEntries(Object.entries(values).map(([k, v]) => [`$MLOPS_VALUES/${k}`, v])) };
}

const full = { accuracy: '0.91\n', url: 'https://models.acme/churn/7\n', promoted: 'true\n', report: '{"auc": 0.93}\n' };

describe('a value produced, consumed, and driving a condition both ways', () => {
  const objects = () => Testing.synth(branchPipeline(Testing.app()).p) as ManifestObject[];

  test('accuracy 0.91: deploy runs with the URL in its env, retrain is skipped by its condition (a result), announce runs; the run succeeds', async () => {
    const r = await simulate(objects(), { pollSeconds: 5, steps: { train: produces(full) } });
    expectClean(r);
    const { train, deploy, retrain, announce } = r.steps;
    expect(JSON.parse(train.annotations!['mlops.cdk8s.io/values'])).toEqual({ accuracy: 0.91, url: 'https://models.acme/churn/7', promoted: true, report: { auc: 0.93 } });
    expect(deploy.outcome).toBe('complete');
    expect(deploy.podAnnotations).toEqual({ 'in.mlops.cdk8s.io/url': 'https://models.acme/churn/7' });
    expect(retrain.outcome).toBe('skipped');
    expect(retrain.skipped).toBe('condition false: train.accuracy (0.91) < 0.8');
    expect(retrain.pods).toEqual([]);
    expect(announce.outcome).toBe('complete');
    expect(r.exitCode).toBe(0);
    expect(r.coordinator.stdout).toContain('released deploy (upstream: train; values: url=https://models.acme/churn/7)');
  });

  test('accuracy 0.74: deploy is skipped with the comparison as the reason, retrain runs with the accuracy; announce still runs', async () => {
    const r = await simulate(objects(), {
      pollSeconds: 5,
      steps: {
        train: produces({ ...full, accuracy: '0.74' }),
        // The modelled container names a file after its env var: the kubelet model resolves
        // MLOPS_VALUE_ACCURACY from the pod's annotation through the downward API.
        retrain: { files: { '$MLOPS_OUTPUT_NOTES/seen-accuracy-$MLOPS_VALUE_ACCURACY': '' } },
      },
    });
    expectClean(r);
    const { deploy, retrain, announce } = r.steps;
    expect(deploy.skipped).toBe('condition false: train.accuracy (0.74) >= 0.8');
    expect(deploy.pods).toEqual([]);
    expect(retrain.outcome).toBe('complete');
    expect(retrain.podAnnotations).toEqual({ 'in.mlops.cdk8s.io/accuracy': '0.74' });
    const written = Object.values(r.claims).flatMap((files) => Object.keys(files));
    expect(written.filter((f) => f.includes('/notes/'))).toEqual([expect.stringMatching(/^branch\/retrain-[0-9a-f]{8}\/notes\/seen-accuracy-0\.74$/)]);
    expect(announce.outcome).toBe('complete');
    expect(r.exitCode).toBe(0);
    expect(r.ledger?.states).toMatchObject({ train: 'complete', deploy: 'skipped', retrain: 'complete', announce: 'complete' });
  });
});

describe('values and decisions survive a coordinator restart and the producer\'s TTL', () => {
  /** train and slow share one slot (maxParallel 1): deploy waits for slow after train completed. */
  function waitingConsumer(): ManifestObject[] {
    const app = Testing.app();
    const p = new Pipeline(app, 'late', {
      namespace: 'ml',
      defaults: { image: 'registry.example.com/ml/step:1.0' },
      maxParallel: 1,
      ttlAfterFinished: Duration.seconds(60),
      backend: new PlainBackend({ pollInterval: Duration.seconds(5) }),
    });
    const train = new ContainerStep(p, 'train', { outputs: { model: Model }, values: { accuracy: NumberValue, url: StringValue } });
    new ContainerStep(p, 'slow');
    new ContainerStep(p, 'deploy', { inputValues: { url: train.values.url }, when: train.values.accuracy.atLeast(0.8) });
    new ContainerStep(p, 'rollback', { inputValues: { accuracy: train.values.accuracy }, when: train.values.accuracy.lessThan(0.8), trigger: TriggerRule.ALL_SUCCEEDED });
    return Testing.synth(p) as ManifestObject[];
  }

  test('restarted twice and with the producer\'s Job gone, the coordinator releases the consumer with the value from its ledger', async () => {
    const r = await simulate(waitingConsumer(), {
      steps: { train: produces({ accuracy: '0.88', url: 'https://models.acme/late/3' }), slow: { durations: [200] } },
      faults: { killCoordinatorAt: [40, 100] },
    });
    expectClean(r);
    const { train, deploy, rollback } = r.steps;
    expect(r.coordinator.runs).toHaveLength(3);
    // The producer completed and its Job was deleted by its TTL before the consumer's release,
    // and both restarts came in between.
    expect(train.finishedAt!).toBeLessThan(r.coordinator.runs[0].endedAt!);
    expect(train.deletedAt!).toBeLessThan(r.coordinator.runs[2].startedAt);
    expect(r.coordinator.runs[2].startedAt).toBeLessThan(deploy.releasedAt!);
    expect(deploy.podAnnotations).toEqual({ 'in.mlops.cdk8s.io/url': 'https://models.acme/late/3' });
    expect(deploy.outcome).toBe('complete');
    expect(rollback.skipped).toBe('condition false: train.accuracy (0.88) < 0.8');
    expect(r.exitCode).toBe(0);
    // Dropped from the ledger once no waiting step reads them.
    expect(r.ledger?.values).toEqual({});
  });
});

describe('conditions on two values, and on a producer that failed', () => {
  function pipeline(build: (p: Pipeline) => void): ManifestObject[] {
    const p = new Pipeline(Testing.app(), 'cmp', {
      namespace: 'ml',
      defaults: { image: 'registry.example.com/ml/step:1.0' },
      backend: new PlainBackend({ pollInterval: Duration.seconds(5) }),
    });
    build(p);
    return Testing.synth(p) as ManifestObject[];
  }

  test('a challenger is promoted only when its AUC beats the champion\'s', async () => {
    const objects = () => pipeline((p) => {
      const champion = new ContainerStep(p, 'champion', { values: { auc: NumberValue } });
      const challenger = new ContainerStep(p, 'challenger', { values: { auc: NumberValue } });
      new ContainerStep(p, 'promote', { when: challenger.values.auc.greaterThan(champion.values.auc) });
    });
    const better = await simulate(objects(), { steps: { champion: produces({ auc: '0.81' }), challenger: produces({ auc: '0.84' }) } });
    expectClean(better);
    expect(better.steps.promote.outcome).toBe('complete');
    const worse = await simulate(objects(), { steps: { champion: produces({ auc: '0.81' }), challenger: produces({ auc: '0.79' }) } });
    expectClean(worse);
    expect(worse.steps.promote.skipped).toBe('condition false: challenger.auc (0.79) > champion.auc (0.81)');
    expect(worse.exitCode).toBe(0);
  });

  test('a condition on the value of a step that failed is not evaluated: the step is skipped, and the producer\'s failure fails the run', async () => {
    const objects = pipeline((p) => {
      const train = new ContainerStep(p, 'train', { values: { accuracy: NumberValue } });
      new ContainerStep(p, 'report', { when: train.values.accuracy.atLeast(0.8), trigger: TriggerRule.ALL_DONE });
    });
    const r = await simulate(objects, { steps: { train: { exitCodes: [1] } } });
    expectClean(r);
    expect(r.steps.report.skipped).toBe('condition not evaluated: step train did not complete');
    expect(r.steps.report.pods).toEqual([]);
    expect(r.exitCode).toBe(3);
  });
});

describe('a value the reporter refuses fails its step with the reason', () => {
  test('a report over the 4096-byte limit: train fails at once, not retried, and its downstream steps are skipped naming the reason', async () => {
    const objects = Testing.synth(branchPipeline(Testing.app(), { retries: 2 }).p) as ManifestObject[];
    const r = await simulate(objects, { pollSeconds: 5, steps: { train: produces({ ...full, report: JSON.stringify({ rows: 'x'.repeat(5000) }) }) } });
    expectClean(r);
    const { train, deploy, retrain } = r.steps;
    const reason = 'value \'report\' is 5011 bytes, over the limit of 4096 bytes for all values of a step together; write large results to an artifact';
    expect(train.outcome).toBe('failed');
    expect(train.reason).toBe('PodFailurePolicy');
    // FailJob: the retries are not spent on a file that would be written the same way.
    expect(train.pods).toHaveLength(1);
    expect(train.annotations!['mlops.cdk8s.io/failure-reason']).toBe(reason);
    expect(train.annotations!['mlops.cdk8s.io/values']).toBeUndefined();
    const reporter = r.containers.find((c) => c.step === 'train' && c.container === 'report-values')!;
    expect(reporter.exitCode).toBe(3);
    expect(reporter.stderr.trimEnd().split('\n').pop()).toBe(`report-values: ${reason}`);
    expect(deploy.skipped).toBe(`upstream step 'train' failed: ${reason}`);
    expect(retrain.skipped).toBe(`upstream step 'train' failed: ${reason}`);
    expect(r.ledger?.notes.train).toBe(reason);
    expect(r.exitCode).toBe(3);
    expect(r.coordinator.stdout).toMatch(/train\s+failed\s+value 'report' is 5011 bytes/);
  });
});
