/**
 * When a step runs relative to its upstream steps, as Airflow's trigger rules and Argo's
 * `depends` express it. The coordinator decides at run time (docs/control-flow.md).
 */
export const TriggerRule = {
  /** Every upstream step completed (the default). A failed, skipped or rejected upstream skips the step. */
  ALL_SUCCEEDED: 'all-succeeded',
  /** Every upstream step finished, whatever the outcome: clean-up and reports. */
  ALL_DONE: 'all-done',
  /** At least one upstream step failed: alerting and fallbacks. Skipped when none failed. */
  ONE_FAILED: 'one-failed',
  /** Every upstream step finished and none failed; skipped (by a condition) or rejected upstream steps are fine. */
  NONE_FAILED: 'none-failed',
} as const;

/** One of `TriggerRule`'s values. */
export type TriggerRule = typeof TriggerRule[keyof typeof TriggerRule];

/** The rules a step may set, for checking values that came around the types. */
export const TRIGGER_RULES: readonly TriggerRule[] = Object.values(TriggerRule);
