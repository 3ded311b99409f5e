import { Construct } from 'constructs';
import type { ArtifactType } from '../model/artifact';
import { Metrics, Model } from '../model/artifact';
import { ItemOutputs } from '../model/item-outputs';
import { StepGroup } from '../model/step-group';
import type { NumberValue, StructuredValue } from '../model/step-value';
import { isWholeNumberIn, shown } from '../model/values';
import type { ContainerStepProps } from './container-step';
import { itemEnv } from './fan-out-items';
import { GroupInstance, groupName } from './group-instance';
import { Direction, Objective } from './objective';
import type { SearchSpace } from './search-space';
import { SelectBest } from './select-best';

/** What each trial writes: its model, and its metrics as `metrics.json`. */
type TrialOutputs = { model: typeof Model; metrics: typeof Metrics };

/** Props of a `Sweep`: the search, the selection, and the container each trial runs. */
export interface SweepProps<I extends Record<string, ArtifactType> = Record<string, ArtifactType>>
  extends Omit<ContainerStepProps<TrialOutputs, I>, 'outputs' | 'fanOut' | 'fanOutParallelism'> {
  /**
   * The trials: `SearchSpace.grid({...})` or `SearchSpace.random({...}, { trials, seed })`.
   * Each trial gets its parameters as `MLOPS_PARAM_<NAME>` (and all of them as JSON in
   * `MLOPS_ITEM`), so `args: ['--lr', '$(MLOPS_PARAM_LEARNING_RATE)']` needs no shell.
   */
  readonly space: SearchSpace;
  /** The metric the best trial is chosen by, and its direction: `Objective.maximize('auc')`. */
  readonly objective: Objective;
  /**
   * The metrics every trial writes into `$MLOPS_OUTPUT_METRICS/metrics.json` (an object of
   * numbers); the objective must be one of them.
   */
  readonly metrics: readonly string[];
  /**
   * At most this many trials run at once (the coordinator's per-group cap, plan column 9),
   * on top of the pipeline's `maxParallel`.
   * @default - all of them, within `maxParallel`
   */
  readonly parallelism?: number;
  /**
   * How many trials may fail (after their retries) without failing the run: the sweep goes
   * on while the budget holds (plan column 8) and selects among the trials that completed.
   * One more failure and the run fails.
   * @default 0 - any failed trial fails the run
   */
  readonly failureBudget?: number;
}

/**
 * A hyperparameter sweep, as Katib's experiments without a controller: one Job per trial
 * (a grid or a seeded random sample, drawn at synthesis, so the YAML shows every trial), at
 * most `parallelism` at once, a budget of failed trials the run tolerates, and a library
 * selection step that picks the best trial by one metric and exposes its model as
 * `sweep.model` and its metric as the typed value `sweep.bestValue` (a `NumberValue` a later
 * step reads with `inputValues` or compares in `when`). Each trial writes `$MLOPS_OUTPUT_MODEL` and
 * `$MLOPS_OUTPUT_METRICS/metrics.json`. Early stopping (of bad trials, or of the sweep once
 * a goal is reached) is not supported: every trial runs to its end.
 *
 * @example
 * const tune = new Sweep(pipeline, 'tune', {
 *   space: SearchSpace.random({ learning_rate: Param.logUniform(1e-4, 1e-1) }, { trials: 12, seed: 7 }),
 *   parallelism: 3,
 *   failureBudget: 2,
 *   metrics: ['auc', 'logloss'],
 *   objective: Objective.maximize('auc'),
 *   command: ['python', '-m', 'trainer.fit'],
 *   args: ['--learning-rate', '$(MLOPS_PARAM_LEARNING_RATE)'],
 *   inputs: { train: split.outputs.train },
 * });
 * new ContainerStep(pipeline, 'export', { inputs: { model: tune.model } });
 * new ContainerStep(pipeline, 'deploy', { inputs: { model: tune.model }, when: tune.bestValue.atLeast(0.8) });
 */
export class Sweep<I extends Record<string, ArtifactType> = Record<string, ArtifactType>> extends Construct {
  /** The trials, in trial order: steps named `<sweep>-trial-<index>`. */
  public readonly trials: readonly GroupInstance<TrialOutputs, I>[];
  /** The selection step, `<sweep>-select`. */
  public readonly selection: SelectBest;
  /** The best trial's model, copied by the selection step. */
  public readonly model: Model;
  /** `leaderboard.json` (every trial ranked, with its parameters and state) and the winner's `metrics.json`. */
  public readonly leaderboard: Metrics;
  /**
   * The winner's value of the objective's metric, known at run time: `inputValues: { auc:
   * tune.bestValue }` gives a step `MLOPS_VALUE_AUC`, `when: tune.bestValue.atLeast(0.8)`
   * runs it only when the best trial is good enough.
   */
  public readonly bestValue: NumberValue;
  /** The winner's trial index, from 0. */
  public readonly bestTrial: NumberValue;
  /** The winner's parameters, a JSON object such as `{"learning_rate":0.01,"optimizer":"adam"}`. */
  public readonly bestParams: StructuredValue;
  /** Every trial's model folder, `0/`, `1/`, ... */
  public readonly trialModels: ItemOutputs;
  /** Every trial's metrics folder. */
  public readonly trialMetrics: ItemOutputs;
  /** The group the coordinator caps and budgets as one. */
  public readonly group: StepGroup;

  public constructor(scope: Construct, id: string, props: SweepProps<I>) {
    super(scope, id);
    const { space, objective, metrics, parallelism, failureBudget = 0, ...trial } = props;
    const fail = (message: string): never => {
      throw new Error(`[${this.node.path}] ${message}`);
    };
    const problem = sweepProblem(props, failureBudget);
    if (problem) fail(problem);
    this.group = new StepGroup(this, groupName(this), parallelism, failureBudget);
    this.trials = space.trials.map((params, i) => new GroupInstance<TrialOutputs, I>(this, `trial-${i}`,
      { ...trial, outputs: { model: Model, metrics: Metrics } }, this.group, i, itemEnv(params, i, 'MLOPS_PARAM_')));
    this.trialModels = new ItemOutputs(this.trials[0], 'model');
    this.trialMetrics = new ItemOutputs(this.trials[0], 'metrics');
    this.selection = new SelectBest(this, 'select', {
      models: this.trialModels,
      metrics: this.trialMetrics,
      objective,
      failureBudget,
      trials: this.trials.map((t, i) => ({ step: t.stepName, params: space.trials[i] })),
    });
    this.model = this.selection.model;
    this.leaderboard = this.selection.leaderboard;
    this.bestValue = this.selection.best;
    this.bestTrial = this.selection.bestTrial;
    this.bestParams = this.selection.bestParams;
  }
}

function sweepProblem(props: SweepProps<any>, failureBudget: unknown): string | undefined {
  const { space, objective, metrics, parallelism } = props;
  if (space?.problem) return space.problem;
  const trials = space?.trials.length ?? 0;
  if (trials === 0) return "'space' holds no trials; use SearchSpace.grid({...}) or SearchSpace.random({...}, { trials, seed })";
  if (!Array.isArray(metrics) || metrics.length === 0 || metrics.some((m) => typeof m !== 'string' || m === '')) {
    return `'metrics' must list the metric names the trials write into metrics.json, e.g. ['auc', 'logloss'], got ${JSON.stringify(metrics)}`;
  }
  if (!objective || !Object.values(Direction).includes(objective.direction)) {
    return "'objective' must be Objective.maximize('<metric>') or Objective.minimize('<metric>')";
  }
  if (!metrics.includes(objective.metric)) {
    return `objective metric '${objective.metric}' is not one the trials write (${metrics.map((m) => `'${m}'`).join(', ')}); `
      + `name one of them in Objective.${objective.direction}(), or add '${objective.metric}' to 'metrics'`;
  }
  if (!isWholeNumberIn(failureBudget, 0, trials - 1)) {
    return `'failureBudget' must be a whole number from 0 to ${trials - 1} (the sweep runs ${trials} trials, and one must complete `
      + `to pick a winner), got ${shown(failureBudget)}`;
  }
  if (parallelism !== undefined && !isWholeNumberIn(parallelism, 1, trials)) {
    return `'parallelism' must be a whole number from 1 to ${trials} (the number of trials), got ${shown(parallelism)}`;
  }
  return undefined;
}
