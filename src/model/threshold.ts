/** How a threshold compares a metric. */
export enum ThresholdComparison {
  /** The metric must be at least the bound (higher is better: accuracy, AUC). */
  AT_LEAST = '>=',
  /** The metric must be at most the bound (lower is better: RMSE, log loss). */
  AT_MOST = '<=',
}

/**
 * One condition a model's metrics must meet for the gate to approve it.
 *
 * Absolute thresholds (`atLeast`, `atMost`) always apply. Baseline thresholds
 * (`noWorseThanBaseline`) compare with the metrics of the model currently approved, and
 * apply only once there is one: the first model is judged on absolute thresholds alone, as
 * TFX's evaluator does.
 *
 * @example
 * Threshold.atLeast('auc', 0.8)
 * Threshold.atMost('rmse', 3)
 * Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST, 0.01)
 */
export class Threshold {
  /** `metric >= value`. */
  public static atLeast(metric: string, value: number): Threshold {
    return new Threshold(metric, ThresholdComparison.AT_LEAST, value, false);
  }

  /** `metric <= value`. */
  public static atMost(metric: string, value: number): Threshold {
    return new Threshold(metric, ThresholdComparison.AT_MOST, value, false);
  }

  /**
   * No worse than the baseline's value of `metric` by more than `tolerance`:
   * `metric >= baseline - tolerance` when higher is better (`AT_LEAST`),
   * `metric <= baseline + tolerance` when lower is better (`AT_MOST`).
   *
   * @param tolerance how much worse than the baseline still passes; 0 means "at least as good"
   */
  public static noWorseThanBaseline(metric: string, direction: ThresholdComparison, tolerance = 0): Threshold {
    return new Threshold(metric, direction, tolerance, true);
  }

  private constructor(
    /** The metric's name, a key of `metrics.json`. */
    public readonly metric: string,
    /** How the metric compares with the bound. */
    public readonly comparison: ThresholdComparison,
    /** The bound, or for a baseline threshold the tolerance. */
    public readonly value: number,
    /** Whether the bound is the baseline's value moved by `value` rather than `value` itself. */
    public readonly relativeToBaseline: boolean,
  ) {}

  /** `auc >= 0.8`, `auc >= baseline - 0.01`, for messages and docs. */
  public toString(): string {
    if (!this.relativeToBaseline) return `${this.metric} ${this.comparison} ${this.value}`;
    const sign = this.comparison === ThresholdComparison.AT_LEAST ? '-' : '+';
    return `${this.metric} ${this.comparison} baseline ${sign} ${this.value}`;
  }

  /** Why this threshold cannot be checked, or undefined; `declared` is the evaluation's metric names. */
  public problem(declared: readonly string[]): string | undefined {
    const what = this.relativeToBaseline ? 'tolerance' : 'value';
    if (typeof this.value !== 'number' || !Number.isFinite(this.value)) {
      return `threshold on '${this.metric}' has a ${what} that is not a finite number (${String(this.value)}); give a number such as 0.8`;
    }
    if (this.relativeToBaseline && this.value < 0) {
      return `threshold on '${this.metric}' has a negative tolerance (${this.value}); use 0 for "at least as good as the baseline" or a positive margin`;
    }
    if (!declared.includes(this.metric)) {
      return `threshold on '${this.metric}', which the evaluation does not declare (it declares ${declared.map((m) => `'${m}'`).join(', ') || 'none'}); `
        + `add '${this.metric}' to 'metrics' or fix the name`;
    }
    return undefined;
  }

  /** The form the gate script reads (one element of `MLOPS_GATE_THRESHOLDS`). */
  public toJson(): { metric: string; op: string; value?: number; tolerance?: number } {
    return this.relativeToBaseline
      ? { metric: this.metric, op: this.comparison, tolerance: this.value }
      : { metric: this.metric, op: this.comparison, value: this.value };
  }
}
