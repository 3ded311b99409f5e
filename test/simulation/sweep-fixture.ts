import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Dataset, Metrics, Objective, Param, Pipeline, PlainBackend, SearchSpace, Sweep } from '../../src';
import type { ManifestObject, StepBehaviour } from '../../src/verify/simulator';

/**
 * split -> 12 trials (3 at once, budget 3) -> select -> export, and deploy, which reads the
 * winning AUC and runs only when it is at least `threshold`.
 */
export function sweepPipeline(threshold = 0.9): ManifestObject[] {
  const app = Testing.app();
  const p = new Pipeline(app, 'hpo', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/trainer:1.0' },
    backend: new PlainBackend({ pollInterval: Duration.seconds(10) }),
  });
  const split = new ContainerStep(p, 'split', { outputs: { train: Dataset } });
  const tune = new Sweep(p, 'tune', {
    space: SearchSpace.random({ lr: Param.logUniform(1e-4, 1e-1), depth: Param.integer(2, 8) }, { trials: 12, seed: 11 }),
    parallelism: 3,
    failureBudget: 3,
    metrics: ['auc'],
    objective: Objective.maximize('auc'),
    args: ['--lr', '$(MLOPS_PARAM_LR)'],
    inputs: { train: split.outputs.train },
  });
  new ContainerStep(p, 'export', { inputs: { model: tune.model } });
  new ContainerStep(p, 'deploy', {
    inputs: { model: tune.model },
    outputs: { receipt: Metrics },
    inputValues: { auc: tune.bestValue },
    when: tune.bestValue.atLeast(threshold),
  });
  return Testing.synth(p) as ManifestObject[];
}

export const trials = Array.from({ length: 12 }, (_, i) => `tune-trial-${i}`);
/** Each trial's AUC: trial 7 is the best; trial 4 would beat it, but it fails in the first scenario. */
const auc = (i: number) => (i === 7 ? 0.93 : i === 4 ? 0.99 : 0.7 + i / 100);

/**
 * Trials run 10-40 s and, when they exit 0, leave their metrics and model in their folders;
 * `failing` ones exit 1 on every attempt and leave nothing. The selection is not modelled:
 * its container is the library's, and runs assets/select-best.sh for real.
 */
export function behaviour(failing: number[]): Record<string, StepBehaviour> {
  return {
    ...Object.fromEntries(trials.map((t, i) => [t, {
      durations: [10 + (i % 4) * 10],
      exitCodes: [failing.includes(i) ? 1 : 0],
      files: { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ auc: auc(i) }), '$MLOPS_OUTPUT_MODEL/model.txt': `model of trial ${i}` },
    }])),
    // deploy names a file after its env var: the kubelet model resolves MLOPS_VALUE_AUC from
    // the pod's annotation, which the coordinator wrote, through the downward API.
    deploy: { files: { '$MLOPS_OUTPUT_RECEIPT/auc-$MLOPS_VALUE_AUC': '' } },
  };
}
