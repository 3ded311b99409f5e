import type { Construct } from 'constructs';
import { UPSTREAM_STATES_ANNOTATION } from '../conventions';
import { Metrics, Model } from '../model/artifact';
import { BatchStep } from '../model/batch-step';
import type { ItemOutputs } from '../model/item-outputs';
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
 */
export class SelectBest extends BatchStep {
  /** The winner's model. */
  public readonly model: Model;
  /** `leaderboard.json` (every trial, ranked) and the winner's `metrics.json`. */
  public readonly leaderboard: Metrics;

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
    this.addLibraryEnv('MLOPS_SELECT_METRIC', { value: props.objective.metric });
    this.addLibraryEnv('MLOPS_SELECT_DIRECTION', { value: props.objective.direction });
    this.addLibraryEnv('MLOPS_SELECT_FAILURE_BUDGET', { value: String(props.failureBudget) });
    this.addLibraryEnv('MLOPS_SELECT_TRIALS', { value: JSON.stringify(props.trials) });
    // Set by the coordinator into the suspended Job's template just before release; not
    // declared in the template, where a re-apply would reset it.
    this.addLibraryEnv('MLOPS_UPSTREAM_STATES', { valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${UPSTREAM_STATES_ANNOTATION}']` } } });
  }
}
