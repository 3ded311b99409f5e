import type { Construct } from 'constructs';
import { UPSTREAM_STATES_ANNOTATION } from '../conventions';
import { Metrics, Model } from '../model/artifact';
import { BatchStep } from '../model/batch-step';
import type { ItemOutputs } from '../model/item-outputs';
import { NumberValue, StructuredValue } from '../model/step-value';
import { TriggerRule } from '../model/trigger-rule';
import type { Objective } from './objective';
import type { ParamValue } from './search-space';

/** What the selection of a sweep needs: the trials' collected outputs and how to rank them. */
export interface SelectBestProps {
  /** Every trial's model folder. */
  readonly models: ItemOutputs;
  /** Every trial's metrics folder (each with `metrics.json`). */
  readonly metrics: ItemOutputs;
  readonly objective: Objective;
  /** How many trials may be missing (failed or skipped) before the selection fails. */
  readonly failureBudget: number;
  /** The trials, in index order: their step names and parameters, for the leaderboard. */
  readonly trials: ReadonlyArray<{ readonly step: string; readonly params: Readonly<Record<string, ParamValue>> }>;
}

/**
 * The library step that ends a sweep: `assets/select-best.sh` (bash and jq) ranks the trials
 * that completed by the objective's metric, copies the winner's model into `model` and
 * writes `leaderboard/leaderboard.json` with the winner's `metrics.json` beside it. It runs
 * once every trial is final (`all-done`), learns which completed from the coordinator
 * (`MLOPS_UPSTREAM_STATES`), and fails when more trials are missing than the budget.
 *
 * It also declares the winner as values (`best`, `best_trial`, `best_params`): the script
 * writes them into `$MLOPS_VALUES` and the library's values reporter puts them on the Job,
 * as for any step that declares values, so a later step reads them or a `when` compares them.
 */
export class SelectBest extends BatchStep {
  /** The winner's model. */
  public readonly model: Model;
  /** `leaderboard.json` (every trial, ranked) and the winner's `metrics.json`. */
  public readonly leaderboard: Metrics;
  /** The winner's value of the objective's metric (value `best`). */
  public readonly best: NumberValue;
  /** The winner's trial index, from 0 (value `best_trial`). */
  public readonly bestTrial: NumberValue;
  /** The winner's parameters as a JSON object (value `best_params`). */
  public readonly bestParams: StructuredValue;

  public constructor(scope: Construct, id: string, props: SelectBestProps) {
    super(scope, id, {
      imagePullPolicy: 'IfNotPresent',
      containerName: 'select',
      trigger: TriggerRule.ALL_DONE,
      // It copies one model folder: a small footprint, whatever the trials needed.
      resources: { cpu: { request: { amount: '100m' }, limit: { amount: '1' } } },
    });
    this.runLibraryScript('select-best.sh');
    this.addInput('models', props.models);
    this.addInput('metrics', props.metrics);
    this.model = this.addOutput('model', Model);
    this.leaderboard = this.addOutput('leaderboard', Metrics);
    this.best = this.addValue('best', NumberValue);
    this.bestTrial = this.addValue('best_trial', NumberValue);
    this.bestParams = this.addValue('best_params', StructuredValue);
    this.addLibraryEnv('MLOPS_SELECT_METRIC', { value: props.objective.metric });
    this.addLibraryEnv('MLOPS_SELECT_DIRECTION', { value: props.objective.direction });
    this.addLibraryEnv('MLOPS_SELECT_FAILURE_BUDGET', { value: String(props.failureBudget) });
    this.addLibraryEnv('MLOPS_SELECT_TRIALS', { value: JSON.stringify(props.trials) });
    // Set by the coordinator into the suspended Job's template just before release; not
    // declared in the template, where a re-apply would reset it.
    this.addLibraryEnv('MLOPS_UPSTREAM_STATES', { valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${UPSTREAM_STATES_ANNOTATION}']` } } });
  }
}
