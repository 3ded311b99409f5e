import type { Duration } from 'cdk8s';
import { cronProblem, MIN_STARTING_DEADLINE_SECONDS, timeZoneProblem } from './cron';
import { wholeSecondsProblem } from './durations';

/** What a schedule does when a run is due while the previous one still runs (a CronJob's `concurrencyPolicy`). */
export enum ConcurrencyPolicy {
  /** Skip the new run; the running one finishes. */
  FORBID = 'Forbid',
  /** Stop the running run (its coordinator Job is deleted, and its step Jobs with it) and start the new one. */
  REPLACE = 'Replace',
  /** Start the new run beside the running one; each keeps its own Jobs and folders. */
  ALLOW = 'Allow',
}

/** How runs of a pipeline are kept: settings shared by scheduled and on-demand runs. */
export interface RunOptions {
  /**
   * How many succeeded runs keep their coordinator Job, and with it their step Jobs and
   * logs (the CronJob's `successfulJobsHistoryLimit`). Older ones are deleted with their Jobs.
   * @default 3 - as Kubernetes
   */
  readonly successfulRunsToKeep?: number;
  /**
   * How many failed runs keep their Jobs (the CronJob's `failedJobsHistoryLimit`).
   * @default 1 - as Kubernetes
   */
  readonly failedRunsToKeep?: number;
  /**
   * How many runs keep their artifact folders (`<workspace>/<pipeline>/runs/<run>/`). At the
   * end of each run a small step on the coordinator image deletes older runs' folders,
   * never that of a run still going.
   * @default - every run's folder stays until you delete it
   */
  readonly keepArtifactsOfRuns?: number;
}

/** When a pipeline runs by itself: a CronJob starts each run. */
export interface ScheduleProps extends RunOptions {
  /**
   * When runs start: five fields (minute hour day-of-month month day-of-week) or a
   * descriptor such as `@daily`, as Kubernetes parses them. No `TZ=` prefix: use `timeZone`.
   */
  readonly cron: string;
  /**
   * IANA time zone the expression is read in (Kubernetes >= 1.27).
   * @default - the time zone of the kube-controller-manager, usually UTC
   */
  readonly timeZone?: string;
  /**
   * What to do when a run is due while the previous one still runs. Applies to scheduled
   * runs only: a run started by hand always starts.
   * @default ConcurrencyPolicy.FORBID - runs of one pipeline never overlap
   */
  readonly concurrency?: ConcurrencyPolicy;
  /**
   * How late a run may still start after its scheduled time (controller down, or the
   * previous run still going under FORBID); later, the run is skipped. At least 10 s: the
   * CronJob controller looks every 10 s.
   * @default - no deadline: a missed run starts as soon as it can (Kubernetes stops
   * scheduling after more than 100 missed runs)
   */
  readonly startingDeadline?: Duration;
}

/**
 * How a pipeline runs again without a new synth: on a schedule and on demand, each run with
 * its own id, Jobs and artifact folders. Resolved from the pipeline's `schedule` or
 * `onDemand` props.
 */
export class PipelineRuns {
  /**
   * Resolves and checks `schedule` / `onDemand`; throws `fail(message)` on a mistake.
   * @returns undefined when the pipeline has neither
   */
  public static resolve(schedule: ScheduleProps | undefined, onDemand: RunOptions | undefined, fail: (message: string) => never): PipelineRuns | undefined {
    if (schedule && onDemand) fail('set either \'schedule\' or \'onDemand\', not both: a scheduled pipeline can also be run on demand');
    const options = schedule ?? onDemand;
    if (!options) return undefined;
    const prop = schedule ? 'schedule' : 'onDemand';
    if (schedule) {
      const cron = cronProblem(schedule.cron);
      if (cron) fail(`'schedule.cron' '${schedule.cron}' is not a valid schedule: ${cron}`);
      const tz = schedule.timeZone === undefined ? undefined : timeZoneProblem(schedule.timeZone);
      if (tz) fail(`'schedule.timeZone' '${schedule.timeZone}' is not a valid time zone: ${tz}`);
      if (schedule.startingDeadline) {
        const seconds = schedule.startingDeadline.toSeconds({ integral: false });
        const whole = wholeSecondsProblem('schedule.startingDeadline', schedule.startingDeadline);
        if (whole) fail(whole);
        if (seconds < MIN_STARTING_DEADLINE_SECONDS) {
          fail(`'schedule.startingDeadline' is ${seconds}s, under ${MIN_STARTING_DEADLINE_SECONDS}s: the CronJob controller `
            + `looks every ${MIN_STARTING_DEADLINE_SECONDS}s, so a run could be missed every time; set at least `
            + `Duration.seconds(${MIN_STARTING_DEADLINE_SECONDS}), or leave it unset`);
        }
      }
    }
    const count = (name: keyof RunOptions, min: number, why: string): number | undefined => {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < min)) {
        fail(`'${prop}.${name}' must be a whole number of at least ${min}, got ${value}${why}`);
      }
      return value;
    };
    const successful = count('successfulRunsToKeep', 0, '') ?? 3;
    const failed = count('failedRunsToKeep', 0, '') ?? 1;
    const keepArtifacts = count('keepArtifactsOfRuns', 1,
      ': 0 would delete the folder of the run that just finished; keep at least 1, or leave it unset to keep every folder');
    return new PipelineRuns(schedule?.cron, schedule?.timeZone, schedule?.concurrency ?? ConcurrencyPolicy.FORBID,
      schedule?.startingDeadline?.toSeconds(), successful, failed, keepArtifacts);
  }

  private constructor(
    /** The cron expression; undefined for a pipeline run only on demand. */
    public readonly cron: string | undefined,
    public readonly timeZone: string | undefined,
    public readonly concurrency: ConcurrencyPolicy,
    public readonly startingDeadlineSeconds: number | undefined,
    public readonly successfulRunsToKeep: number,
    public readonly failedRunsToKeep: number,
    /** How many runs keep their artifact folders; undefined keeps all. */
    public readonly keepArtifactsOfRuns: number | undefined,
  ) {}

  /** Trade-offs of these settings worth a warning at synth. */
  public get warnings(): string[] {
    if (this.failedRunsToKeep > 0) return [];
    return ['\'failedRunsToKeep\' is 0: a failed run\'s Jobs, pods and logs are deleted as soon as it fails, and nothing '
      + 'else in the pipeline reports the failure; keep at least 1, or watch the CronJob\'s events '
      + '(kubectl get events --field-selector involvedObject.kind=CronJob)'];
  }
}
