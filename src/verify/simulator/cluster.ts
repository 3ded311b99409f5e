import type { DeletePolicy } from './api-server';
import { clone, isObject, jsonEqual, mergePatch } from './merge-patch';
import { alreadyExists, badRequest, invalid, notFound } from './status';
import { ManifestObject, PodRecord, StepBehaviour, WorldEvent } from './types';
import { LEDGER_ANNOTATION, SKIPPED_ANNOTATION } from '../../conventions';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Fields of a Job's spec that an update may not change
 * (pkg/apis/batch/validation/validation.go, ValidateJobSpecUpdate); the template is handled
 * apart, since its scheduling directives may change while the Job has never started.
 */
const IMMUTABLE_SPEC = new Set(['completions', 'selector', 'completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'manualSelector']);

export interface Pod extends PodRecord {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** When a scripted pod's container exits, and with which code. */
  plannedEnd?: number;
  plannedExit?: number;
  /** The pod was killed from outside (eviction): it carries the DisruptionTarget condition. */
  disrupted?: boolean;
  /** The container whose exit ended the pod, when it is not the first main container (an init container). */
  failedContainer?: string;
}

export interface Job {
  obj: ManifestObject;
  readonly uid: string;
  /** Its pods are real processes run by the simulation (the coordinator), not scripted. */
  readonly external: boolean;
  readonly pods: Pod[];
  countedFailures: number;
  lastFailureAt?: number;
  /** Set when a podFailurePolicy FailJob rule matched. */
  failJob?: { reason: string; message: string };
  finishedAt?: number;
  deleted: boolean;
}

/** What happened to one Job name over the whole run, across re-creations. */
export interface JobHistory {
  readonly name: string;
  readonly releases: number[];
  readonly suspensions: number[];
  readonly pods: Pod[];
  completedAt?: number;
  failedAt?: number;
  reason?: string;
  deletedAt?: number;
  instances: number;
  podAnnotations?: Record<string, string>;
  podEnv?: Record<string, string>;
}

export interface ClusterHooks {
  /** A pod of an external Job starts its container: start the process. */
  startExternal(job: Job, pod: Pod): void;
  /** A running pod of an external Job is deleted or killed: stop the process. */
  stopExternal(pod: Pod): void;
  /** A modelled pod exited 0, as its behaviour said: write what its container leaves behind. */
  podSucceeded?(job: Job, pod: Pod, behaviour: StepBehaviour): void;
}

export interface ClusterOptions {
  readonly epoch: number;
  readonly namespace: string;
  readonly podStartSeconds: number;
  /** Pod behaviour for a Job, or 'external' when the simulation runs its pods itself. */
  readonly behaviour: (job: ManifestObject) => StepBehaviour | 'external';
}

/**
 * An in-process model of what the coordinator touches: Jobs as the API server stores them
 * and as the Job controller drives them, their pods, TTL clean-up, and apply/patch/delete.
 * Time moves only through `step`, so every run is deterministic.
 */
export class Cluster {
  now: number;
  readonly events: WorldEvent[] = [];
  readonly history = new Map<string, JobHistory>();
  hooks: ClusterHooks = { startExternal: () => undefined, stopExternal: () => undefined };
  private readonly jobs = new Map<string, Job>();
  private readonly others = new Map<string, ManifestObject>();
  private readonly faults: Array<{ at: number; what: string; run: () => void }> = [];
  private serial = 0;
  private rv = 1000;
  /** Pods of Jobs deleted with the Orphan policy: they run on, owned by nothing. */
  private readonly orphans: Array<{ job: Job; pod: Pod }> = [];

  constructor(private readonly opts: ClusterOptions) {
    this.now = opts.epoch;
  }

  // ---- objects ---------------------------------------------------------------------

  /** `kubectl apply` of every object: creates what is missing, sets declared fields back on the rest. */
  apply(objects: readonly ManifestObject[]): void {
    for (const o of objects) {
      const ns = o.metadata.namespace ?? this.opts.namespace;
      if (o.kind === 'Job') this.applyJob(o, ns);
      else this.others.set(key(o.kind, ns, o.metadata.name), { ...clone(o), metadata: { ...clone(o.metadata), namespace: ns } });
    }
    this.syncAll();
  }

  /** Non-Job objects (Roles, ServiceAccounts, ConfigMaps, ...) as stored. */
  objects(): ManifestObject[] {
    return [...this.others.values()];
  }

  job(ns: string, name: string): Job | undefined {
    return this.jobs.get(key('Job', ns, name));
  }

  liveJobs(): Job[] {
    return [...this.jobs.values()];
  }

  /** The resourceVersion of the latest write, as a list reports it. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Jobs of a namespace (every namespace if undefined) matching a label selector, as stored. */
  listJobs(ns: string | undefined, match: (labels: Record<string, string>) => boolean): ManifestObject[] {
    return [...this.jobs.values()]
      .filter((j) => (ns === undefined || j.obj.metadata.namespace === ns) && match(j.obj.metadata.labels ?? {}))
      .map((j) => clone(j.obj));
  }

  getJob(ns: string, name: string): ManifestObject {
    const job = this.job(ns, name);
    if (!job) throw notFound({ group: 'batch', resource: 'jobs', name });
    return clone(job.obj);
  }

  /**
   * A JSON merge patch (RFC 7386) on the main resource, as the patch handler applies it
   * (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go, jsonPatcher): status is a
   * subresource, so status in the patch is dropped (pkg/registry/batch/job/strategy.go,
   * PrepareForUpdate), then the update is validated. Returns the stored object.
   */
  patch(ns: string, name: string, patch: unknown): ManifestObject {
    const job = this.job(ns, name);
    if (!job) throw notFound({ group: 'batch', resource: 'jobs', name });
    if (!isObject(patch)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
    const before = job.obj;
    const after = mergePatch(clone(before), patch) as ManifestObject;
    after.status = before.status;
    validateUpdate(before, after);
    if (!jsonEqual(before, after)) this.replace(job, after);
    return clone(job.obj);
  }

  /**
   * A patch of a stored Deployment (a promotion restarting a model server). The patch handler
   * applies it to the stored object (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go);
   * status is a subresource, so status in the patch is dropped, and a changed spec bumps
   * `metadata.generation` (pkg/registry/apps/deployment/strategy.go, PrepareForUpdate).
   */
  patchDeployment(ns: string, name: string, patch: unknown): ManifestObject {
    const k = key('Deployment', ns, name);
    const before = this.others.get(k);
    if (!before) throw notFound({ group: 'apps', resource: 'deployments', name });
    if (!isObject(patch)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
    const after = mergePatch(clone(before), patch) as ManifestObject;
    after.status = before.status;
    if (after.status === undefined) delete after.status;
    if (!jsonEqual(before.spec, after.spec)) after.metadata.generation = (before.metadata.generation ?? 1) + 1;
    if (!jsonEqual(before, after)) {
      this.others.set(k, after);
      this.rv += 1;
      this.log(undefined, `Deployment ${name} patched`);
    }
    return clone(after);
  }

  /** POST of a Job (a scheduled run's Jobs are created this way): defaults applied, no last-applied annotation. */
  create(ns: string, obj: unknown): ManifestObject {
    if (!isObject(obj) || obj.kind !== 'Job' || !isObject(obj.metadata) || typeof obj.metadata.name !== 'string' || obj.metadata.name === '') {
      throw badRequest('the body must be a batch/v1 Job with metadata.name (generateName is not modelled)');
    }
    const o = obj as unknown as ManifestObject;
    if (o.metadata.namespace !== undefined && o.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (this.job(ns, o.metadata.name)) throw alreadyExists({ group: 'batch', resource: 'jobs', name: o.metadata.name });
    this.createJob(o, ns);
    this.syncAll();
    return clone(this.job(ns, o.metadata.name)!.obj);
  }

  /**
   * POST of another kind (a run's Role and RoleBinding): stored with a uid, no defaults.
   * `check` runs before the store's AlreadyExists, as the RBAC storage's escalation check
   * wraps the standard store (pkg/registry/rbac/role/policybased/storage.go).
   */
  createObject(kind: string, group: string, resource: string, ns: string, obj: unknown, check: (o: ManifestObject) => void): ManifestObject {
    if (!isObject(obj) || obj.kind !== kind || !isObject(obj.metadata) || typeof obj.metadata.name !== 'string' || obj.metadata.name === '') {
      throw badRequest(`the body must be a ${kind} with metadata.name (generateName is not modelled)`);
    }
    const o = obj as unknown as ManifestObject;
    if (o.metadata.namespace !== undefined && o.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    check(o);
    const k = key(kind, ns, o.metadata.name);
    if (this.others.has(k)) throw alreadyExists({ group, resource, name: o.metadata.name });
    const uid = `00000000-0000-4000-8000-${(++this.serial).toString(16).padStart(12, '0')}`;
    const stored: ManifestObject = {
      ...clone(o),
      metadata: { ...clone(o.metadata), namespace: ns, uid, resourceVersion: String(++this.rv), creationTimestamp: iso(this.now) },
    };
    this.others.set(k, stored);
    this.log(undefined, `${kind} ${o.metadata.name} created`);
    return clone(stored);
  }

  /**
   * Delete a Job. Background and Foreground delete its pods (the garbage collector,
   * pkg/controller/garbagecollector); Orphan leaves them running, unowned. A raw API delete
   * without a policy orphans: batch/v1 Jobs default to OrphanDependents
   * (pkg/registry/batch/job/strategy.go, DefaultGarbageCollectionPolicy); kubectl delete
   * sends Background and the TTL controller Foreground. Returns the deleted Job's uid.
   */
  deleteJob(ns: string, name: string, why: string, policy: DeletePolicy = 'Background'): string {
    const job = this.job(ns, name);
    if (!job) throw notFound({ group: 'batch', resource: 'jobs', name });
    job.deleted = true;
    this.jobs.delete(key('Job', ns, name));
    if (policy === 'Orphan') {
      for (const pod of active(job)) this.orphans.push({ job, pod });
    } else {
      for (const pod of active(job)) this.removePod(job, pod, 'job-deleted');
    }
    this.hist(name).deletedAt = this.now;
    this.log(name, `deleted (${why}${policy === 'Orphan' ? ', pods orphaned' : ''})`);
    // The garbage collector deletes the Jobs this one owns (a run's step Jobs, owned by the
    // run's coordinator) once their owner is gone, in the background
    // (pkg/controller/garbagecollector/garbagecollector.go attemptToDeleteItem); an Orphan
    // delete leaves them (orphanDependents).
    if (policy !== 'Orphan') {
      for (const dependent of [...this.jobs.values()].filter((j) => (j.obj.metadata.ownerReferences ?? []).some((r: any) => r.uid === job.uid))) {
        this.deleteJob(ns, dependent.obj.metadata.name, `garbage collected with its owner ${name}`, 'Background');
      }
      // Dependents of other kinds too (a run's Role and RoleBinding): the collector follows
      // owner references whatever the dependent's kind, within the owner's namespace.
      for (const [k, o] of [...this.others]) {
        if ((o.metadata.ownerReferences ?? []).some((r: any) => r.uid === job.uid)) {
          this.others.delete(k);
          this.log(undefined, `${o.kind} ${o.metadata.name} deleted (garbage collected with its owner ${name})`);
        }
      }
    }
    return job.uid;
  }

  /** Delete a stored object that is not a Job (a Role, say), as `kubectl delete` would. */
  deleteObject(kind: string, ns: string, name: string): boolean {
    const k = [...this.others.keys()].find((x) => x === key(kind, ns, name) || (kind.startsWith('Cluster') && x.startsWith(`${kind}/`) && x.endsWith(`/${name}`)));
    if (!k) return false;
    this.others.delete(k);
    this.log(undefined, `${kind} ${name} deleted`);
    return true;
  }

  // ---- time ------------------------------------------------------------------------

  /**
   * Run `fn` when the clock reaches `at` (absolute). A fault is logged as one when it
   * happens; a container of a pod the simulation runs (`logged: false`) logs its own end.
   */
  schedule(at: number, what: string, run: () => void, logged = true): void {
    this.faults.push({ at, what: logged ? `fault: ${what}` : '', run });
    this.faults.sort((a, b) => a.at - b.at);
  }

  /** The next time at which something happens on its own, if anything will. */
  nextEventTime(): number | undefined {
    let next = Infinity;
    const at = (t: number | undefined) => {
      if (t !== undefined && t < next) next = t;
    };
    at(this.faults[0]?.at);
    for (const { pod } of this.orphans) if (pod.phase === 'Running') at(pod.plannedEnd);
    for (const job of this.jobs.values()) {
      for (const pod of job.pods) {
        if (pod.phase === 'Pending') at(pod.createdAt + this.opts.podStartSeconds);
        if (pod.phase === 'Running') at(pod.plannedEnd);
      }
      const spec = job.obj.spec ?? {};
      if (job.finishedAt !== undefined) {
        if (spec.ttlSecondsAfterFinished != null) at(job.finishedAt + spec.ttlSecondsAfterFinished);
        continue;
      }
      if (spec.suspend === true) continue;
      const start = job.obj.status?.startTime;
      if (spec.activeDeadlineSeconds != null && start) at(parseTime(start) + spec.activeDeadlineSeconds);
      if (job.countedFailures > 0 && job.lastFailureAt !== undefined && wantsPods(job)) at(job.lastFailureAt + backoff(job.countedFailures));
    }
    return next === Infinity ? undefined : Math.max(next, this.now);
  }

  /** Move the clock to `t` and let everything due by then happen. */
  step(t: number): void {
    if (t < this.now) throw new Error(`the clock cannot go back from ${this.now} to ${t}`);
    this.now = t;
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.processDue()) return;
    }
    throw new Error(`the simulated world does not settle at t=${t - this.opts.epoch}s`);
  }

  private processDue(): boolean {
    let any = false;
    for (const { job, pod } of this.orphans) {
      if (pod.phase === 'Running' && pod.plannedEnd !== undefined && pod.plannedEnd <= this.now) {
        this.endOrphan(job, pod, pod.plannedExit ?? 0);
        any = true;
      }
    }
    for (const job of [...this.jobs.values()]) {
      for (const pod of job.pods) {
        if (pod.phase === 'Pending' && pod.createdAt + this.opts.podStartSeconds <= this.now) {
          this.startPod(job, pod);
          any = true;
        }
        if (pod.phase === 'Running' && pod.plannedEnd !== undefined && pod.plannedEnd <= this.now) {
          this.endPod(job, pod, pod.plannedExit ?? 0, false);
          any = true;
        }
      }
      const ttl = job.obj.spec?.ttlSecondsAfterFinished;
      if (job.finishedAt !== undefined && ttl != null && job.finishedAt + ttl <= this.now) {
        // pkg/controller/ttlafterfinished/ttlafterfinished_controller.go deletes with Foreground propagation.
        this.deleteJob(job.obj.metadata.namespace!, job.obj.metadata.name, `ttlSecondsAfterFinished: ${ttl}`, 'Foreground');
        any = true;
      }
    }
    while (this.faults.length > 0 && this.faults[0].at <= this.now) {
      const fault = this.faults.shift()!;
      if (fault.what) this.log(undefined, fault.what);
      fault.run();
      any = true;
    }
    return this.syncAll() || any;
  }

  // ---- external pods ---------------------------------------------------------------

  /** The process of an external pod ended by itself. */
  externalExited(pod: Pod, exitCode: number): void {
    const orphan = this.orphans.find((o) => o.pod === pod);
    if (orphan) return this.endOrphan(orphan.job, pod, exitCode);
    const job = [...this.jobs.values()].find((j) => j.pods.includes(pod));
    if (!job || pod.phase !== 'Running') return;
    this.endPod(job, pod, exitCode, false);
    this.syncAll();
  }

  /** Kill an external pod's process as an eviction would (exit 137, DisruptionTarget). */
  killExternal(job: Job): boolean {
    const pod = job.pods.find((p) => p.phase === 'Running');
    if (!pod) return false;
    this.hooks.stopExternal(pod);
    this.endPod(job, pod, 137, true);
    pod.end = 'killed';
    return true;
  }

  // ---- the Job controller ----------------------------------------------------------

  /** One pass of the Job controller over every Job; true if anything changed. */
  syncAll(): boolean {
    let changed = false;
    for (const job of [...this.jobs.values()]) {
      const before = JSON.stringify(job.obj.status) + job.pods.length;
      this.sync(job);
      changed ||= before !== JSON.stringify(job.obj.status) + job.pods.length;
    }
    return changed;
  }

  private sync(job: Job): void {
    if (job.deleted || job.finishedAt !== undefined) return;
    const spec = job.obj.spec;
    const status = job.obj.status;
    const suspended = spec.suspend === true;
    // pkg/controller/job/job_controller.go, syncJob: a FailJob rule of the podFailurePolicy
    // first, then more failed pods than backoffLimit, then the active deadline.
    const failure =
      job.failJob ??
      (job.countedFailures > (spec.backoffLimit ?? 6)
        ? { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
        : undefined) ??
      // pastActiveDeadline: false while suspended; counted from status.startTime, which a resume resets.
      (!suspended && spec.activeDeadlineSeconds != null && status.startTime &&
      this.now - parseTime(status.startTime) >= spec.activeDeadlineSeconds
        ? { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }
        : undefined);
    if (failure) {
      // A finished Job's remaining pods are deleted (job_controller.go, deleteActivePods).
      for (const pod of active(job)) this.removePod(job, pod, 'job-finished');
      this.finish(job, 'Failed', failure);
      return;
    }
    if (succeeded(job) && active(job).length === 0) {
      this.finish(job, 'Complete');
      return;
    }
    // Suspension (job_controller.go, manageJob and syncJob): active pods are deleted, the
    // Suspended condition set; status.startTime is kept (only a resume resets it).
    if (suspended) {
      for (const pod of active(job)) this.removePod(job, pod, 'suspended');
      this.setCondition(job, 'Suspended', 'True', 'JobSuspended', 'Job suspended');
      this.counts(job);
      return;
    }
    if (condition(job.obj, 'Suspended')?.status === 'True') {
      this.setCondition(job, 'Suspended', 'False', 'JobResumed', 'Job resumed');
      // syncJob: "Resumed jobs will always reset StartTime to current time", so the deadline
      // counts the time the Job has been continuously active.
      status.startTime = iso(this.now);
    }
    // syncJob: startTime is set the first time the controller syncs an unsuspended Job.
    status.startTime ??= iso(this.now);
    // Replacement pods wait out the back-off after the last counted failure (backoff_utils.go).
    const gate = job.countedFailures > 0 && job.lastFailureAt !== undefined ? job.lastFailureAt + backoff(job.countedFailures) : -Infinity;
    if (this.now >= gate) this.createPods(job);
    this.counts(job);
  }

  /**
   * manageJob: at most `parallelism` active pods; an Indexed Job creates a pod per missing
   * index (pkg/controller/job/indexed_job_utils.go, firstPendingIndexes), a NonIndexed one
   * as many as completions still need (or until one succeeds when completions is unset).
   */
  private createPods(job: Job): void {
    const spec = job.obj.spec;
    const running = active(job);
    const room = spec.parallelism - running.length;
    if (room <= 0) return;
    if (spec.completionMode === 'Indexed') {
      const done = succeededIndexes(job);
      const busy = new Set(running.map((p) => p.index));
      const todo = range(spec.completions).filter((i) => !done.has(i) && !busy.has(i));
      for (const index of todo.slice(0, room)) this.createPod(job, index);
    } else {
      const ok = job.pods.filter((p) => p.phase === 'Succeeded').length;
      const want = spec.completions == null ? (ok > 0 ? 0 : spec.parallelism) : Math.min(spec.parallelism, spec.completions - ok);
      for (let i = running.length; i < want; i++) this.createPod(job, 0);
    }
  }

  private createPod(job: Job, index: number): void {
    const name = job.obj.metadata.name;
    const indexed = job.obj.spec.completionMode === 'Indexed';
    const suffix = (++this.serial).toString(36).padStart(5, '0');
    const pod: Pod = { name: indexed ? `${name}-${index}-${suffix}` : `${name}-${suffix}`, index, createdAt: this.now, phase: 'Pending' };
    job.pods.push(pod);
    this.hist(name).pods.push(pod);
    this.hist(name).podAnnotations ??= clone(job.obj.spec.template?.metadata?.annotations ?? {});
    this.hist(name).podEnv ??= literalEnv(job.obj.spec.template?.spec?.containers?.[0]?.env);
    if (this.opts.podStartSeconds === 0) this.startPod(job, pod);
  }

  private startPod(job: Job, pod: Pod): void {
    pod.phase = 'Running';
    pod.startedAt = this.now;
    const behaviour = this.opts.behaviour(job.obj);
    this.log(job.obj.metadata.name, `pod ${pod.name} started`);
    if (behaviour === 'external') {
      this.hooks.startExternal(job, pod);
      return;
    }
    const { duration, exitCode } = plannedRun(job, pod, behaviour);
    pod.plannedEnd = this.now + duration;
    pod.plannedExit = exitCode;
  }

  private endPod(job: Job, pod: Pod, exitCode: number, disrupted: boolean): void {
    pod.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
    pod.endedAt = this.now;
    pod.exitCode = exitCode;
    pod.end = 'exit';
    pod.disrupted = disrupted;
    this.log(job.obj.metadata.name, `pod ${pod.name} exited ${exitCode}${disrupted ? ' (killed)' : ''}`);
    if (exitCode === 0) {
      const behaviour = this.opts.behaviour(job.obj);
      if (behaviour !== 'external') this.hooks.podSucceeded?.(job, pod, behaviour.indexes?.[pod.index] ?? behaviour);
      return;
    }
    // A failed pod counts towards backoffLimit unless the podFailurePolicy says Ignore; FailJob fails the Job.
    const action = failurePolicy(job, pod, exitCode);
    if (action.action === 'FailJob') job.failJob = { reason: 'PodFailurePolicy', message: action.message };
    if (action.action !== 'Ignore') {
      job.countedFailures++;
      job.lastFailureAt = this.now;
    }
  }

  /** An orphaned pod's container exits: nothing owns it, so nothing counts it. */
  private endOrphan(job: Job, pod: Pod, exitCode: number): void {
    pod.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
    pod.endedAt = this.now;
    pod.exitCode = exitCode;
    pod.end = 'exit';
    this.log(job.obj.metadata.name, `orphaned pod ${pod.name} exited ${exitCode}`);
  }

  private removePod(job: Job, pod: Pod, why: NonNullable<PodRecord['end']>): void {
    if (pod.phase === 'Running' && this.opts.behaviour(job.obj) === 'external') this.hooks.stopExternal(pod);
    if (pod.phase === 'Running') this.log(job.obj.metadata.name, `pod ${pod.name} deleted (${why})`);
    pod.phase = 'Failed';
    pod.endedAt = this.now;
    pod.end = why;
  }

  private finish(job: Job, type: 'Complete' | 'Failed', why?: { reason: string; message: string }): void {
    job.finishedAt = this.now;
    this.setCondition(job, type, 'True', why?.reason, why?.message);
    if (type === 'Complete') job.obj.status.completionTime = iso(this.now);
    this.counts(job);
    const h = this.hist(job.obj.metadata.name);
    if (type === 'Complete') h.completedAt = this.now;
    else {
      h.failedAt = this.now;
      h.reason = why?.reason;
    }
    this.log(job.obj.metadata.name, type === 'Complete' ? 'Complete' : `Failed: ${why?.reason}`);
  }

  /** status.active, ready, succeeded, failed and completedIndexes, as trackJobStatusAndRemoveFinalizers writes them. */
  private counts(job: Job): void {
    const status = job.obj.status;
    const set = (k: string, v: number | undefined) => {
      if (v) status[k] = v;
      else delete status[k];
    };
    const running = active(job);
    set('active', running.length);
    status.ready = running.filter((p) => p.phase === 'Running').length;
    if (job.obj.spec.completionMode === 'Indexed') {
      const done = [...succeededIndexes(job)].sort((a, b) => a - b);
      if (done.length > 0) status.completedIndexes = ranges(done);
      set('succeeded', done.length);
    } else {
      set('succeeded', job.pods.filter((p) => p.phase === 'Succeeded').length);
    }
    set('failed', job.countedFailures);
    status.uncountedTerminatedPods ??= {};
  }

  private setCondition(job: Job, type: string, value: 'True' | 'False', reason?: string, message?: string): void {
    const conditions: any[] = (job.obj.status.conditions ??= []);
    const existing = conditions.find((c) => c.type === type);
    if (existing && existing.status === value && existing.reason === reason) return;
    // job_controller.go, ensureJobConditionStatus: a False condition is never added, only flipped.
    if (!existing && value === 'False') return;
    const c: Record<string, string> = { type, status: value, lastProbeTime: iso(this.now), lastTransitionTime: iso(this.now) };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    if (existing) conditions.splice(conditions.indexOf(existing), 1, c);
    else conditions.push(c);
  }

  // ---- writes ----------------------------------------------------------------------

  private applyJob(declared: ManifestObject, ns: string): void {
    const existing = this.job(ns, declared.metadata.name);
    const lastApplied = JSON.stringify(declared);
    if (!existing) {
      this.createJob(declared, ns, lastApplied);
      return;
    }
    // Every declared field goes back to its declared value; fields others added (status,
    // annotations the coordinator wrote) stay. The template is immutable and unchanged.
    const next = clone(existing.obj);
    const decl = clone(declared);
    delete decl.spec?.template;
    delete decl.spec?.selector;
    const merged = overlay(next, decl) as ManifestObject;
    merged.metadata.annotations = { ...merged.metadata.annotations, [LAST_APPLIED]: lastApplied };
    merged.status = existing.obj.status;
    if (!jsonEqual(merged, existing.obj)) this.replace(existing, merged);
  }

  private createJob(declared: ManifestObject, ns: string, lastApplied?: string): void {
    const uid = `00000000-0000-4000-8000-${(++this.serial).toString(16).padStart(12, '0')}`;
    const obj = clone(declared);
    obj.metadata = {
      ...obj.metadata,
      namespace: ns,
      uid,
      resourceVersion: String(++this.rv),
      generation: 1,
      creationTimestamp: iso(this.now),
      ...(lastApplied !== undefined || obj.metadata.annotations ? { annotations: { ...obj.metadata.annotations, ...(lastApplied !== undefined && { [LAST_APPLIED]: lastApplied }) } } : {}),
    };
    const spec = (obj.spec ??= {});
    // API server defaults for batch/v1 Job (pkg/apis/batch/v1/defaults.go, SetDefaults_Job):
    // completions and parallelism 1 when neither is set, backoffLimit 6, NonIndexed, not suspended.
    spec.parallelism ??= 1;
    if (spec.completions === undefined && declared.spec?.parallelism === undefined) spec.completions = 1;
    spec.completionMode ??= 'NonIndexed';
    spec.backoffLimit ??= 6;
    spec.suspend ??= false;
    spec.selector ??= { matchLabels: { 'controller-uid': uid } };
    const tmeta = ((spec.template ??= {}).metadata ??= {});
    // pkg/registry/batch/job/strategy.go generateSelector: since 1.27 with the batch.kubernetes.io/ prefix too.
    tmeta.labels = {
      ...tmeta.labels,
      'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': obj.metadata.name,
      'controller-uid': uid, 'job-name': obj.metadata.name,
    };
    const pod = (spec.template.spec ??= {});
    pod.dnsPolicy ??= 'ClusterFirst';
    pod.schedulerName ??= 'default-scheduler';
    pod.terminationGracePeriodSeconds ??= 30;
    pod.securityContext ??= {};
    obj.status = {};
    const ordered: ManifestObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: obj.spec, status: obj.status };
    const job: Job = { obj: ordered, uid, external: this.opts.behaviour(ordered) === 'external', pods: [], countedFailures: 0, deleted: false };
    this.jobs.set(key('Job', ns, obj.metadata.name), job);
    this.hist(obj.metadata.name).instances++;
    this.log(obj.metadata.name, `created${spec.suspend ? ' (suspended)' : ''}`);
  }

  /** Store a new version of a Job, noting releases, suspensions and the coordinator's annotations. */
  private replace(job: Job, next: ManifestObject): void {
    const before = job.obj;
    next.metadata.resourceVersion = String(++this.rv);
    if (!jsonEqual(before.spec, next.spec)) next.metadata.generation = (before.metadata.generation ?? 1) + 1;
    job.obj = next;
    const name = next.metadata.name;
    const was = before.spec.suspend === true;
    const is = next.spec.suspend === true;
    if (was && !is) {
      this.hist(name).releases.push(this.now);
      this.log(name, 'released (spec.suspend: false)');
    }
    if (!was && is) {
      this.hist(name).suspensions.push(this.now);
      this.log(name, 'suspended (spec.suspend: true)');
    }
    for (const a of [SKIPPED_ANNOTATION, LEDGER_ANNOTATION]) {
      const v = next.metadata.annotations?.[a];
      if (v !== before.metadata.annotations?.[a]) this.log(name, `${a}: ${v ?? '(removed)'}`);
    }
    // The Job controller reacts at once; a write to one Job never changes another.
    this.sync(job);
  }

  private hist(name: string): JobHistory {
    let h = this.history.get(name);
    if (!h) {
      h = { name, releases: [], suspensions: [], pods: [], instances: 0 };
      this.history.set(name, h);
    }
    return h;
  }

  log(job: string | undefined, what: string): void {
    this.events.push({ at: this.now - this.opts.epoch, job, what });
  }
}

// ---- helpers -------------------------------------------------------------------------

function key(kind: string, ns: string, name: string): string {
  return `${kind}/${ns}/${name}`;
}

function active(job: Job): Pod[] {
  return job.pods.filter((p) => p.phase === 'Pending' || p.phase === 'Running');
}

function succeededIndexes(job: Job): Set<number> {
  return new Set(job.pods.filter((p) => p.phase === 'Succeeded').map((p) => p.index));
}

function succeeded(job: Job): boolean {
  const spec = job.obj.spec;
  if (spec.completionMode === 'Indexed') return succeededIndexes(job).size >= spec.completions;
  const ok = job.pods.filter((p) => p.phase === 'Succeeded').length;
  return spec.completions == null ? ok > 0 : ok >= spec.completions;
}

function wantsPods(job: Job): boolean {
  return !succeeded(job) && active(job).length < job.obj.spec.parallelism;
}

/**
 * The Job controller's pod re-creation back-off: 10 s after the first failure, doubling,
 * at most 6 min (pkg/controller/job/job_controller.go in 1.27: DefaultJobBackOff 10 s,
 * MaxJobBackOff 360 s; backoff_utils.go, getRemainingTimeForFailuresCount). Releases from
 * 1.28 on cap it at 10 min (MaxJobPodFailureBackOff); runs here never reach either cap.
 */
function backoff(failures: number): number {
  return Math.min(10 * 2 ** (failures - 1), 360);
}

/**
 * pkg/controller/job/pod_failure_policy.go, matchPodFailurePolicy: the first rule that
 * matches decides (FailJob, Ignore or Count); onExitCodes In/NotIn on the container's exit
 * code (only that container when containerName is set), onPodConditions on the pod's
 * conditions (DisruptionTarget for an evicted or preempted pod). The messages are upstream's.
 */
function failurePolicy(job: Job, pod: Pod, exitCode: number): { action: string; message: string } {
  const rules: any[] = job.obj.spec.podFailurePolicy?.rules ?? [];
  const ns = job.obj.metadata.namespace;
  // getMatchingContainerFromList looks at the containers' and the init containers' statuses.
  const container = pod.failedContainer ?? job.obj.spec.template?.spec?.containers?.[0]?.name ?? 'main';
  for (const [i, rule] of rules.entries()) {
    const codes = rule.onExitCodes;
    if (codes && (codes.containerName === undefined || codes.containerName === container)) {
      const listed = (codes.values ?? []).includes(exitCode);
      if ((codes.operator === 'In' && listed) || (codes.operator === 'NotIn' && !listed)) {
        return { action: rule.action, message: `Container ${container} for pod ${ns}/${pod.name} failed with exit code ${exitCode} matching ${rule.action} rule at index ${i}` };
      }
    }
    const conds: any[] = rule.onPodConditions ?? [];
    if (pod.disrupted && conds.some((c) => c.type === 'DisruptionTarget' && (c.status ?? 'True') === 'True')) {
      return { action: rule.action, message: `Pod ${ns}/${pod.name} has condition DisruptionTarget matching ${rule.action} rule at index ${i}` };
    }
  }
  return { action: 'Count', message: '' };
}

function validateUpdate(before: ManifestObject, after: ManifestObject): void {
  const name = before.metadata.name;
  for (const k of ['name', 'namespace', 'uid', 'creationTimestamp']) {
    if (after.metadata?.[k] !== before.metadata[k]) {
      throw invalid('Job', 'batch', name, `metadata.${k}`, `Invalid value: ${JSON.stringify(after.metadata?.[k])}: field is immutable`);
    }
  }
  for (const k of ['labels', 'annotations']) {
    for (const [ak, av] of Object.entries(after.metadata[k] ?? {})) {
      if (typeof av !== 'string') {
        throw badRequest(`json: cannot unmarshal ${typeof av} into Go struct field ObjectMeta.metadata.${k} of type string (key ${ak})`);
      }
    }
  }
  if (after.spec?.suspend !== undefined && typeof after.spec.suspend !== 'boolean') {
    throw badRequest(`json: cannot unmarshal ${typeof after.spec.suspend} into Go struct field JobSpec.spec.suspend of type bool`);
  }
  // A suspended Job that never started may have its pod template's labels and annotations
  // changed (pkg/apis/batch/validation/validation.go validatePodTemplateUpdate with
  // AllowMutableSchedulingDirectives, which pkg/registry/batch/job/strategy.go sets for a
  // suspended Job whose status.startTime is nil): the coordinator passes values that way.
  const mutableTemplate = before.spec?.suspend === true && !before.status?.startTime;
  const comparable = (spec: any) => (mutableTemplate && spec?.template ? { ...spec, template: { ...spec.template, metadata: { ...spec.template.metadata, labels: undefined, annotations: undefined } } } : spec);
  const [b, a] = [comparable(before.spec), comparable(after.spec)];
  const keys = new Set([...Object.keys(before.spec ?? {}), ...Object.keys(after.spec ?? {})]);
  for (const k of keys) {
    if (IMMUTABLE_SPEC.has(k) && !jsonEqual(b?.[k], a?.[k])) {
      throw invalid('Job', 'batch', name, `spec.${k}`, `Invalid value: ${JSON.stringify(after.spec?.[k])}: field is immutable`);
    }
  }
  if (!jsonEqual(after.spec?.template ?? {}, allowedTemplate(before, after))) {
    throw invalid('Job', 'batch', name, 'spec.template', `Invalid value: ${JSON.stringify(after.spec?.template)}: field is immutable`);
  }
}

/**
 * The template an update may leave (validation.go, validatePodTemplateUpdate): the old one,
 * except that while the old Job is suspended and has never started
 * (pkg/registry/batch/job/strategy.go, AllowMutableSchedulingDirectives) its labels,
 * annotations, node selector, tolerations, node affinity and scheduling gates may change.
 */
function allowedTemplate(before: ManifestObject, after: ManifestObject): unknown {
  const was = clone(before.spec?.template ?? {});
  if (before.spec?.suspend !== true || before.status?.startTime) return was;
  const next = after.spec?.template ?? {};
  const set = (o: Record<string, any>, k: string, v: unknown) => {
    if (v === undefined) delete o[k];
    else o[k] = clone(v);
  };
  was.metadata ??= {};
  set(was.metadata, 'labels', next.metadata?.labels);
  set(was.metadata, 'annotations', next.metadata?.annotations);
  was.spec ??= {};
  for (const k of ['nodeSelector', 'tolerations', 'schedulingGates']) set(was.spec, k, next.spec?.[k]);
  if (was.spec.affinity || next.spec?.affinity) {
    was.spec.affinity = { ...was.spec.affinity };
    set(was.spec.affinity, 'nodeAffinity', next.spec?.affinity?.nodeAffinity);
    if (Object.keys(was.spec.affinity).length === 0 && !next.spec?.affinity) delete was.spec.affinity;
  }
  return was;
}

/** Declared values over live ones: objects merge, everything else is replaced. */
function overlay(live: unknown, declared: unknown): unknown {
  if (!isObject(live) || !isObject(declared)) return clone(declared);
  const out: Record<string, unknown> = { ...live };
  for (const [k, v] of Object.entries(declared)) out[k] = overlay(live[k], v);
  return out;
}

export function condition(obj: ManifestObject, type: string): Record<string, string> | undefined {
  return (obj.status?.conditions ?? []).find((c: any) => c.type === type);
}

export function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseTime(s: string): number {
  return Math.floor(Date.parse(s) / 1000);
}

/**
 * How long a modelled container runs and with which exit code, for this pod's attempt (its
 * index's earlier pods that ran to their own exit; pods deleted by a suspension do not use
 * up an attempt: the work restarts from scratch).
 */
export function plannedRun(job: Job, pod: Pod, behaviour: StepBehaviour): { duration: number; exitCode: number; script: StepBehaviour } {
  const attempt = job.pods.filter((p) => p !== pod && p.index === pod.index && p.end === 'exit').length;
  const script = behaviour.indexes?.[pod.index] ?? behaviour;
  return { duration: pick(script.durations, attempt, 10), exitCode: pick(script.exitCodes, attempt, 0), script };
}

function pick(list: readonly number[] | undefined, attempt: number, fallback: number): number {
  if (!list || list.length === 0) return fallback;
  return list[Math.min(attempt, list.length - 1)];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Kubernetes' compressed index list: 0-2,5. */
function ranges(sorted: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** The literal `value`s of a container's env, by name: what the kubelet hands the process for them. */
function literalEnv(env: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of Array.isArray(env) ? env : []) if (typeof e?.name === 'string' && typeof e.value === 'string') out[e.name] = e.value;
  return out;
}
