import { cronMatchesUtc } from '../../model/cron';
import { ApiError } from './status';
import { Cluster, condition, Job } from './cluster';
import { ManifestObject } from './types';

/**
 * The CronJob controller, for pipelines with a schedule or run on demand: what makes each
 * run's coordinator Job, and deletes old runs (with their step Jobs, through the garbage
 * collector that `Cluster.deleteJob` models). Each rule below is the upstream one, from
 * pkg/controller/cronjob/cronjob_controllerv2.go (sync, syncCronJob, cleanupFinishedJobs)
 * and pkg/controller/cronjob/utils.go (getJobFromTemplate2, getJobName).
 */
export class CronJobController {
  /** Jobs this controller created and has not seen finish: the CronJob's `status.active`. */
  private readonly active = new Set<string>();
  private readonly uid = '00000000-0000-4000-8000-c0c0c0c0c0c0';

  constructor(
    private readonly cluster: Cluster,
    private readonly cronJob: ManifestObject,
    private readonly namespace: string,
  ) {}

  get name(): string {
    return this.cronJob.metadata.name;
  }

  /**
   * Plan a sync at every minute the schedule fires from now until `until` (unix seconds),
   * read in UTC. A suspended CronJob never fires (syncCronJob returns before scheduling).
   */
  start(until: number): void {
    const spec = this.cronJob.spec ?? {};
    if (spec.suspend === true) return;
    if (spec.timeZone !== undefined && spec.timeZone !== 'UTC' && spec.timeZone !== 'Etc/UTC') {
      throw new Error(`the simulated CronJob controller reads schedules in UTC; CronJob ${this.name} has timeZone ${spec.timeZone}`);
    }
    for (let t = Math.ceil(this.cluster.now / 60) * 60; t <= until; t += 60) {
      if (cronMatchesUtc(spec.schedule, new Date(t * 1000))) this.cluster.schedule(t, `CronJob ${this.name} fires`, () => this.sync(t));
    }
  }

  /**
   * One sync at a scheduled time. History clean-up runs first (sync calls
   * cleanupFinishedJobs before syncCronJob); the real controller also syncs whenever one of
   * its Jobs changes, which here happens at the next scheduled time instead: later, with
   * the same outcome.
   */
  sync(scheduledTime: number): void {
    this.forgetFinished();
    this.cleanupFinishedJobs();
    const spec = this.cronJob.spec ?? {};
    // A sync later than startingDeadlineSeconds after the scheduled time skips it (MissSchedule).
    if (spec.startingDeadlineSeconds != null && scheduledTime + spec.startingDeadlineSeconds < this.cluster.now) {
      this.cluster.log(undefined, `CronJob ${this.name}: missed the run scheduled at ${scheduledTime} (MissSchedule)`);
      return;
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && this.active.size > 0) {
      this.cluster.log(undefined, `CronJob ${this.name}: run at ${scheduledTime} skipped, ${[...this.active].join(', ')} still active (Forbid)`);
      return;
    }
    if (policy === 'Replace') {
      // deleteJob with PropagationPolicy Background (cronjob_controllerv2.go, deleteJob): the
      // garbage collector then deletes the run's step Jobs, which it owns.
      for (const name of [...this.active]) {
        this.active.delete(name);
        this.cluster.deleteJob(this.namespace, name, `CronJob ${this.name} replaces it`, 'Background');
      }
    }
    this.createScheduled(scheduledTime);
  }

  /**
   * `kubectl create job --from=cronjob/<name> <run>` (staging/src/k8s.io/kubectl/pkg/cmd/create/create_job.go
   * createJobFromCronJob): the template's labels and annotations plus
   * `cronjob.kubernetes.io/instantiate: manual`, owned by the CronJob. It never enters the
   * active list: concurrency policies do not see it (syncCronJob only warns, UnexpectedJob).
   */
  createManual(run: string): void {
    const template = this.cronJob.spec.jobTemplate;
    this.cluster.create(this.namespace, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: run,
        labels: { ...template.metadata?.labels },
        annotations: { ...template.metadata?.annotations, 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [this.ownerReference()],
      },
      spec: JSON.parse(JSON.stringify(template.spec)),
    });
  }

  /** Every Job the CronJob controls, by the controller reference (getJobsToBeReconciled). */
  children(): Job[] {
    return this.cluster.liveJobs().filter((j) => (j.obj.metadata.ownerReferences ?? []).some((r: any) => r.controller === true && r.kind === 'CronJob' && r.name === this.name));
  }

  /** The Job of one scheduled time, `<cronjob>-<unix minutes>` (getJobName). */
  createScheduled(scheduledTime: number): void {
    const name = `${this.name}-${Math.floor(scheduledTime / 60)}`;
    const template = this.cronJob.spec.jobTemplate;
    try {
      // getJobFromTemplate2: the template's labels and annotations, the scheduled time, a controller reference.
      this.cluster.create(this.namespace, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name,
          labels: { ...template.metadata?.labels },
          annotations: { ...template.metadata?.annotations, 'batch.kubernetes.io/cronjob-scheduled-timestamp': new Date(scheduledTime * 1000).toISOString().replace('.000', '') },
          ownerReferences: [this.ownerReference()],
        },
        spec: JSON.parse(JSON.stringify(template.spec)),
      });
    } catch (e) {
      // A second creation for one scheduled time (a controller that created the Job but
      // failed to record it) gets AlreadyExists; syncCronJob then keeps the existing Job.
      if (!(e instanceof ApiError) || e.reason !== 'AlreadyExists') throw e;
      this.cluster.log(name, `CronJob ${this.name}: the Job for this scheduled time exists already (AlreadyExists)`);
    }
    this.active.add(name);
  }

  private ownerReference(): Record<string, unknown> {
    return { apiVersion: 'batch/v1', kind: 'CronJob', name: this.name, uid: this.uid, controller: true, blockOwnerDeletion: true };
  }

  /** syncCronJob: a finished Job leaves the active list; one gone missing too (MissingJob). */
  private forgetFinished(): void {
    for (const name of [...this.active]) {
      const job = this.cluster.job(this.namespace, name);
      if (!job || finished(job.obj)) this.active.delete(name);
    }
  }

  /**
   * cleanupFinishedJobs: beyond successfulJobsHistoryLimit succeeded and
   * failedJobsHistoryLimit failed Jobs, the oldest (by start time) are deleted, with
   * PropagationPolicy Background. Manual runs are the CronJob's children too.
   */
  private cleanupFinishedJobs(): void {
    const spec = this.cronJob.spec ?? {};
    const children = this.children();
    const byStart = (a: Job, b: Job) => (a.obj.status?.startTime ?? a.obj.metadata.creationTimestamp).localeCompare(b.obj.status?.startTime ?? b.obj.metadata.creationTimestamp);
    const prune = (jobs: Job[], limit: number | undefined) => {
      if (limit == null) return;
      for (const job of jobs.sort(byStart).slice(0, Math.max(0, jobs.length - limit))) {
        this.cluster.deleteJob(this.namespace, job.obj.metadata.name, `CronJob ${this.name} history limit`, 'Background');
      }
    };
    prune(children.filter((j) => condition(j.obj, 'Complete')), spec.successfulJobsHistoryLimit ?? 3);
    prune(children.filter((j) => condition(j.obj, 'Failed')), spec.failedJobsHistoryLimit ?? 1);
  }
}

function finished(obj: ManifestObject): boolean {
  return condition(obj, 'Complete') !== undefined || condition(obj, 'Failed') !== undefined;
}
