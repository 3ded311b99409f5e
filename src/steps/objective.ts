/** Which way a metric is better. */
export enum Direction {
  MAXIMIZE = 'maximize',
  MINIMIZE = 'minimize',
}

/** The metric a sweep ranks its trials by, and which way is better. */
export class Objective {
  /** Higher is better (accuracy, AUC). */
  public static maximize(metric: string): Objective {
    return new Objective(metric, Direction.MAXIMIZE);
  }

  /** Lower is better (loss, error rate). */
  public static minimize(metric: string): Objective {
    return new Objective(metric, Direction.MINIMIZE);
  }

  private constructor(
    /** A key of each trial's `metrics.json`. */
    public readonly metric: string,
    public readonly direction: Direction,
  ) {}
}
