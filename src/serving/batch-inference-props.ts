import type { Duration } from 'cdk8s';
import type { ApprovedModel } from '../model/artifact';
import type { StepSecurity } from '../model/container-spec';
import type { StepResources } from '../model/plus-values';
import type { ConcurrencyPolicy } from '../model/schedule';
import type { BatchData } from './batch-data';
import type { ModelRegistry } from './registry';

/** When a batch inference runs: the CronJob's schedule and history. */
export interface BatchInferenceSchedule {
  /**
   * Five fields (minute hour day-of-month month day-of-week) or a descriptor such as
   * `@hourly`, as Kubernetes parses them; checked field by field at synth. No `TZ=`
   * prefix: use `timeZone`.
   */
  readonly cron: string;
  /**
   * IANA time zone the expression is read in (Kubernetes >= 1.27).
   * @default - the time zone of the kube-controller-manager, usually UTC
   */
  readonly timeZone?: string;
  /**
   * What to do when a run is due while the previous one still scores.
   * @default ConcurrencyPolicy.FORBID - runs never overlap, so two runs never read the same
   * model folder while they write scores
   */
  readonly concurrency?: ConcurrencyPolicy;
  /**
   * How late a run may still start after its scheduled time; later, it is skipped. At least
   * 10 s: the CronJob controller looks every 10 s.
   * @default - no deadline: a missed run starts as soon as it can (Kubernetes stops
   * scheduling after more than 100 missed runs)
   */
  readonly startingDeadline?: Duration;
  /**
   * How many succeeded runs keep their Job, pods and logs (`successfulJobsHistoryLimit`).
   * @default 3 - as Kubernetes
   */
  readonly successfulRunsToKeep?: number;
  /**
   * How many failed runs keep their Job, pods and logs (`failedJobsHistoryLimit`).
   * @default 1 - as Kubernetes
   */
  readonly failedRunsToKeep?: number;
}

/** Props of a `BatchInference`. */
export interface BatchInferenceProps {
  /**
   * The model the runs score with: proof at compile time that its registry versions come
   * from a gate. Only `evaluate.approvedModel` (an `ApprovedModel`) is accepted; a `Model`
   * straight from training does not compile.
   */
  readonly approvedModel: ApprovedModel;
  /** Where the approved versions are published (`<model>/<integer version>/`, complete once `READY` exists); mounted read-only. */
  readonly registry: ModelRegistry;
  /** The model's folder in the registry. */
  readonly model: string;
  /** When runs start, and how many are kept. */
  readonly schedule: BatchInferenceSchedule;
  /** The image that scores: yours, reading the env variables documented in docs/serving.md. */
  readonly image: string;
  /**
   * Entrypoint override.
   * @default - the image's
   */
  readonly command?: string[];
  /**
   * Arguments.
   * @default - the image's CMD
   */
  readonly args?: string[];
  /**
   * Extra environment of the scoring container.
   * @default - only the documented variables
   */
  readonly env?: Record<string, string>;
  /** The dataset each run scores: `BatchData.fromClaim(claim, folder)` or `BatchData.fromUri('s3://...')`. */
  readonly input: BatchData;
  /**
   * Where scores go. Each run writes into its own folder below it, named after the run's
   * Job (`<name>-<unix minutes of the scheduled time>`), so a rerun of one scheduled time
   * overwrites only its own scores and never another run's.
   */
  readonly output: BatchData;
  /**
   * Name of the CronJob and its ConfigMap; at most 52 characters (its Jobs append
   * `-<unix minutes>`).
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Score with this version instead of the latest ready one: the rollback. Remove it to
   * follow the latest again.
   * @default - the highest version holding `READY`
   */
  readonly version?: number;
  /**
   * Retries of a run's pod after a crash (the Job's `backoffLimit`). A run that finds no
   * ready version is not retried: it fails at once, and the next scheduled run tries again.
   * @default 2
   */
  readonly retries?: number;
  /**
   * How long a run may take before it is stopped (the Job's `activeDeadlineSeconds`), so a
   * hung run cannot block later ones under FORBID.
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * Cpu and memory of the scoring container.
   * @default - 500m / 512Mi requested, 1 cpu / 1Gi limit
   */
  readonly resources?: StepResources;
  /**
   * The security profile; every field defaults to the "restricted" Pod Security Standard.
   * @default - uid and gid 1000, non-root, read-only root filesystem
   */
  readonly security?: StepSecurity;
  /**
   * Image of the init containers that pick the version and create the run's output folder.
   * @default 'registry.k8s.io/kubectl:v1.28.15' - bash and coreutils, the pipelines' utility image
   */
  readonly utilityImage?: string;
}
