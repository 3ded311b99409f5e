import { ChildProcess, execFileSync, spawn } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ApiRequest, ApiServer } from './api-server';
import { Cluster, condition, Job, parseTime, Pod } from './cluster';
import { findKubectl, KubectlClient, NoKubectlError } from './kubectl-client';
import { PIPELINE_LABEL, ROLE_LABEL, RUN_LABEL, SKIPPED_ANNOTATION, STEP_LABEL } from '../../conventions';
import { followChild } from './child-output';
import { CronJobController } from './cronjob-controller';
import { LibraryPodRunner, LibraryProc } from './library-pod-runner';
import { CoordinatorSpec, loadCoordinator, parsePlan, PlanEntry, SimulatorSetupError, resolveEnv } from './load';
import { serviceAccountUser } from './rbac';
import { serveTools, sleepSeconds, Reply, ToolRequest, which, writeStandIns } from './standins';
import { ApiError } from './status';
import { buildResult } from './timeline';
import { CallRecord, CoordinatorRun, ManifestObject, SimulateOptions, SimulationResult, StepBehaviour } from './types';

/**
 * `date` calls at one simulated instant beyond which the script is taken to loop without
 * sleeping. A poll reads the clock once; patches are not counted because a wide fan-out
 * legitimately makes hundreds of them at one instant.
 */
const MAX_POLLS_PER_INSTANT = 50;
const DEFAULT_EPOCH = 1_700_000_000;
/** A hang guard below jest's 180 s test timeout: real kubectl calls slow down on a loaded machine. */
const DEFAULT_TIMEOUT_MS = 150_000;

/** A coordinator Job the simulation runs the processes of: the first one, or one applied later. */
interface Coordinator {
  readonly spec: CoordinatorSpec;
  /** The objects it was applied with: its ConfigMaps and ServiceAccount are read from these. */
  readonly objects: readonly ManifestObject[];
  /** Directory under the sandbox holding its container's files (its mounts differ from another version's). */
  readonly root: string;
  /** Simulated seconds when it was applied. */
  readonly appliedAt: number;
}

interface Proc {
  readonly record: CoordinatorRun;
  readonly coord: Coordinator;
  /** The container environment it was started with. */
  readonly env: Record<string, string>;
  readonly pod: Pod;
  readonly token: string;
  readonly child?: ChildProcess;
  alive: boolean;
  /** Waiting in `sleep` until `wakeAt`; `reply` ends the sleep. */
  parked?: { wakeAt: number; reply: Reply };
  poll: number;
  stall: { owed?: string; polls: number };
  /** API requests made with its token since its last kubectl call ended. */
  requests: ApiRequest[];
}

/**
 * Run the coordinator of synthesized objects against a simulated cluster: the script from
 * the ConfigMap runs in bash as it would in the pod and calls the real kubectl, which talks
 * HTTPS to the simulation's API server on loopback with the pod's ServiceAccount token;
 * only `date` and `sleep` are answered by the simulation, whose clock moves only when the
 * script sleeps.
 */
export async function simulate(objects: readonly ManifestObject[], options: SimulateOptions = {}): Promise<SimulationResult> {
  const sim = new Simulation(objects, options);
  try {
    return await sim.run();
  } finally {
    sim.dispose();
  }
}

class Simulation {
  private readonly epoch: number;
  private readonly namespace: string;
  private readonly errors: string[] = [];
  private readonly warnings: string[] = [];
  private readonly calls: CallRecord[] = [];
  private readonly procs: Proc[] = [];
  private readonly started = Date.now();
  private readonly coords: Coordinator[] = [];
  /** `faults.applyAt` entries not applied yet: the run is not over before they are. */
  private pendingApplies = 0;
  private cluster?: Cluster;
  private server?: net.Server;
  private port = 0;
  private api?: ApiServer;
  private client?: KubectlClient;
  private tmp?: string;
  private env: Record<string, string> = {};
  private finished = false;
  private resolveDone: () => void = () => undefined;
  private timer?: NodeJS.Timeout;
  private sameInstant = { at: -1, calls: 0 };
  private readonly injections: Array<{ at: number; verb?: string; left: number }>;
  /** Observer looks still to come, in simulated seconds, ascending. */
  private readonly looks: number[];
  /** An observer is looking: the world stands still until it is done. */
  private looking = false;
  private readonly observerToken = randomBytes(8).toString('hex');
  /** The CronJob of a pipeline with a schedule or run on demand: its runs' coordinators are made by it. */
  private readonly cronJob?: ManifestObject;
  /** CronJobs that are not a pipeline's (a BatchInference): their Jobs run no coordinator. */
  private readonly otherCronJobs: readonly ManifestObject[];
  /** Pods of Jobs with a library container (the gate's, a values reporter's...), run container by container. */
  private pods?: LibraryPodRunner;
  /** Every object set applied so far: where library ConfigMaps and images are looked up. */
  private readonly applied: ManifestObject[] = [];

  constructor(
    private readonly objects: readonly ManifestObject[],
    private readonly options: SimulateOptions,
  ) {
    this.epoch = options.startTime ?? DEFAULT_EPOCH;
    this.namespace = options.namespace ?? 'default';
    this.injections = (options.faults?.failKubectl ?? []).map((f) => ({ at: f.at, verb: f.verb, left: f.times ?? 1 }));
    this.looks = [...(options.observer?.at ?? [])].sort((a, b) => a - b);
    this.cronJob = objects.find((o) => o.kind === 'CronJob' && o.metadata.labels?.[ROLE_LABEL] === 'coordinator'
      && (options.pipeline === undefined || o.metadata.labels?.[PIPELINE_LABEL] === options.pipeline));
    this.otherCronJobs = objects.filter((o) => o.kind === 'CronJob' && o.metadata.labels?.[ROLE_LABEL] !== 'coordinator');
  }

  async run(): Promise<SimulationResult> {
    let c: CoordinatorSpec | undefined;
    try {
      if (this.cronJob) {
        this.checkRunOptions();
      } else {
        c = loadCoordinator(this.objects, this.namespace, this.options.pipeline);
        this.coords.push({ spec: c, objects: this.objects, root: 'root', appliedAt: 0 });
        this.checkOptions(c.plan, c.pipeline);
      }
    } catch (e) {
      if (!(e instanceof SimulatorSetupError)) throw e;
      this.errors.push(`cannot start the coordinator: ${e.message}`);
      return this.result();
    }
    try {
      this.client = findKubectl({ explicit: this.options.kubectl, layer: this.options.kubectlFromLayer });
    } catch (e) {
      if (!(e instanceof NoKubectlError)) throw e;
      this.errors.push(`cannot run the coordinator: ${e.message}`);
      return this.result();
    }
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-sim-'));
    if (c) this.writeMounts(this.coords[0]);
    this.applied.push(...this.objects);
    // Claims of the pipeline's namespace.
    const ns = c?.namespace ?? this.cronJob?.metadata.namespace ?? this.namespace;
    for (const [claim, files] of Object.entries(this.options.claims ?? {})) {
      for (const [file, content] of Object.entries(files)) {
        const host = path.join(this.tmp, 'claims', ns, claim, file);
        if (!host.startsWith(path.join(this.tmp, 'claims', ns, claim) + path.sep)) {
          this.errors.push(`options.claims.${claim}: "${file}" must be a path inside the claim`);
          return this.result();
        }
        fs.mkdirSync(path.dirname(host), { recursive: true });
        fs.writeFileSync(host, content);
      }
    }
    this.checkTools();

    const { server, port } = await serveTools((req, reply) => this.onRequest(req, reply));
    this.server = server;
    this.port = port;

    const sim = this;
    this.pods = new LibraryPodRunner({
      get cluster() { return sim.cluster!; },
      get api() { return sim.api!; },
      get client() { return sim.client!; },
      tmp: this.tmp,
      port: this.port,
      epoch: this.epoch,
      behaviour: (job) => this.stepBehaviour(job.obj),
      fail: (error) => this.stop(error),
      refuse: this.options.allowLibraryContainer,
      objectStore: this.options.objectStore?.endpoint,
    }, () => [...(this.cluster?.objects() ?? []), ...this.applied]);
    const cluster = new Cluster({
      epoch: this.epoch,
      namespace: this.namespace,
      podStartSeconds: this.options.podStartSeconds ?? 0,
      behaviour: (job) => {
        if (this.coordinatorOf(job)) return 'external';
        if (this.pods!.runsPodsOf(job)) return 'external';
        return this.stepBehaviour(job);
      },
    });
    cluster.hooks = {
      startExternal: (job, pod) => (this.coordinatorOf(job.obj) ? this.spawn(job, pod) : this.pods!.start(job, pod)),
      stopExternal: (pod) => {
        this.kill(pod);
        this.pods!.stop(pod);
      },
      podSucceeded: (job, pod, behaviour) => this.pods!.writeFiles(job, pod, job.obj.spec.template?.spec?.containers?.[0] ?? {}, behaviour),
    };
    this.cluster = cluster;
    this.api = new ApiServer({
      cluster,
      // A pod's token is bound to the pod (a projected ServiceAccount token): it stops working when the pod is gone.
      authenticate: (token) => {
        if (this.options.observer && token === this.observerToken) return { name: this.options.observer.user, groups: ['system:authenticated'] };
        const p = this.procs.find((x) => x.token === token && x.alive);
        if (p) return serviceAccountUser(p.coord.spec.namespace, p.coord.spec.serviceAccount);
        // A pod's bound token stops working with the pod.
        return this.pods!.procs.find((x) => x.token === token && x.alive)?.user;
      },
      inject: (verb) => this.inject(verb),
      onRequest: (token, req) => (this.procs.find((x) => x.token === token)
        ?? this.pods!.procs.find((x) => x.token === token && x.alive) ?? this.pods!.procs.find((x) => x.token === token))?.requests.push(req),
    });
    await this.api.start();
    this.pods!.onExit = () => this.schedule();
    if (c) this.scheduleFaults(cluster, c);
    else this.startRuns(cluster);

    const done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    this.timer = setTimeout(() => this.stop(`the simulation ran out of its ${this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms wall-clock budget`), this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      cluster.apply(this.objects);
      this.schedule();
    } catch (e) {
      this.stop(`the simulation itself failed: ${(e as Error).stack}`);
    }
    await done;
    await this.look(true);
    return this.result();
  }

  /** Lets the observer look at the world as it stands; its errors are the simulation's. */
  private async look(final: boolean): Promise<void> {
    const observer = this.options.observer;
    if (!observer || !this.api || !this.cluster) return;
    const now = this.cluster.now;
    try {
      await observer.look({ kubeconfig: this.api.kubeconfig(this.observerToken, this.namespace), at: now - this.epoch, now, final });
    } catch (e) {
      this.errors.push(`the observer failed at t=${now - this.epoch}s: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    for (const p of this.procs) if (p.alive) this.signal(p);
    this.pods?.killAll();
    if (this.timer) clearTimeout(this.timer);
    this.server?.close();
    this.api?.close();
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  // ---- the scheduler ---------------------------------------------------------------

  /**
   * Advance the world while every coordinator process is asleep: to the next thing that
   * happens on its own or the next wake-up, whichever is first. A running process holds
   * the clock still until it sleeps or exits.
   */
  private schedule(): void {
    const cluster = this.cluster!;
    const limit = this.epoch + this.maxSeconds();
    try {
      while (!this.finished && !this.looking) {
        const alive = [...this.procs, ...this.pods!.procs].filter((p) => p.alive);
        if (alive.some((p) => !p.parked)) return;
        // Library containers due at this instant start one at a time while everything else sleeps.
        if (this.pods!.startDue()) continue;
        if (alive.length === 0 && this.coordinatorFinished()) return this.finish();
        const wake = Math.min(...alive.map((p) => p.parked!.wakeAt));
        const next = Math.min(wake, cluster.nextEventTime() ?? Infinity);
        if (next === Infinity) return this.stop('nothing is left to happen but the coordinator Job has not finished (its pod is gone and no restart is due)');
        if (next > limit) return this.stop(`the run did not finish within ${limit - this.epoch} simulated seconds`);
        if (this.looks.length && this.epoch + this.looks[0] <= next) {
          cluster.step(Math.max(cluster.now, this.epoch + this.looks.shift()!));
          this.looking = true;
          void this.look(false).then(() => {
            this.looking = false;
            this.schedule();
          });
          return;
        }
        cluster.step(next);
        // Several coordinators (after a changed apply) take turns: one process runs at a
        // time, the first started first, and the next one due at the same instant wakes
        // when it sleeps again. Their calls never interleave, so every run is deterministic.
        if ([...this.procs, ...this.pods!.procs].some((p) => p.alive && !p.parked)) continue;
        const due = [...this.procs, ...this.pods!.procs].find((p) => p.alive && p.parked && p.parked.wakeAt <= cluster.now);
        if (due) {
          const { reply } = due.parked!;
          due.parked = undefined;
          const library = this.pods!.procs.find((p) => p === due);
          if (library) this.pods!.resumed(library);
          reply(0, '', '');
        }
      }
    } catch (e) {
      this.stop(`the simulation itself failed: ${(e as Error).stack}`);
    }
  }

  /** Every coordinator Job has finished (or is gone) and no apply is still to come. */
  private coordinatorFinished(): boolean {
    if (this.pendingApplies > 0) return false;
    // Runs are over once nothing is scheduled any more (no run due, no manual run to come).
    if (this.cronJob && this.cluster!.nextEventTime() !== undefined) return false;
    return this.coords.every((k) => {
      const job = this.cluster!.job(k.spec.namespace, k.spec.job.metadata.name);
      return !job || job.finishedAt !== undefined;
    });
  }

  private coordinatorOf(job: ManifestObject): Coordinator | undefined {
    const known = this.coords.find((k) => k.spec.job.metadata.name === job.metadata.name && (job.metadata.namespace ?? k.spec.namespace) === k.spec.namespace);
    if (known || !this.cronJob) return known;
    const owned = (job.metadata.ownerReferences ?? []).some((r: any) => r.controller === true && r.kind === 'CronJob' && r.name === this.cronJob!.metadata.name);
    return owned ? this.runCoordinator(job) : undefined;
  }

  /**
   * The coordinator of one run, made by the CronJob: loaded from the Job as created (its pod
   * template carries the job-name and controller-uid labels the prelude reads), with the
   * plan as the prelude fills it in for this run, so every run's steps are checked.
   */
  private runCoordinator(job: ManifestObject): Coordinator {
    const others = this.objects.filter((o) => o !== this.cronJob && !(o.kind === 'Job' && o.metadata.labels?.[ROLE_LABEL] === 'coordinator'));
    const spec = loadCoordinator([job, ...others], this.namespace, this.options.pipeline);
    const hash = createHash('sha256').update(job.metadata.name).digest('hex').slice(0, 8);
    const plan = spec.plan.map((e) => ({ ...e, job: e.job.split('@@run-hash@@').join(hash) }));
    const coord: Coordinator = { spec: { ...spec, plan }, objects: this.objects, root: `run-${this.coords.length}`, appliedAt: this.cluster!.now - this.epoch };
    this.coords.push(coord);
    this.writeMounts(coord);
    return coord;
  }

  /** The CronJob's controller, its manual runs and the faults of runs (options.runs). */
  private startRuns(cluster: Cluster): void {
    const runs = this.options.runs ?? { until: 0 };
    const at = (t: number) => this.epoch + t;
    const controller = new CronJobController(cluster, this.cronJob!, this.cronJob!.metadata.namespace ?? this.namespace);
    controller.start(at(runs.until));
    for (const other of this.otherCronJobs) new CronJobController(cluster, other, other.metadata.namespace ?? this.namespace).start(at(runs.until));
    for (const m of runs.manual ?? []) {
      cluster.schedule(at(m.at), `kubectl create job --from=cronjob/${controller.name} ${m.name}`, () => controller.createManual(m.name));
    }
    for (const d of runs.duplicateAt ?? []) {
      cluster.schedule(at(d.at), `the CronJob controller creates the Job of t=${d.scheduledAt}s again`, () => controller.createScheduled(at(d.scheduledAt)));
    }
    for (const k of runs.killAt ?? []) {
      cluster.schedule(at(k.at), `kill the coordinator of run ${k.run}`, () => {
        const job = cluster.job(this.cronJob!.metadata.namespace ?? this.namespace, k.run);
        if (!job || !cluster.killExternal(job)) cluster.log(k.run, 'no coordinator process to kill');
      });
    }
  }

  /**
   * The modelled behaviour of a Job's user container: its step's in `options.steps` (for a
   * Job of a run, that run's entry of its `runs` when there is one), else `defaultDuration`
   * and exit 0.
   */
  private stepBehaviour(job: ManifestObject): StepBehaviour {
    const step = job.metadata.labels?.[STEP_LABEL];
    const cronJob = (job.metadata.ownerReferences ?? []).find((r: any) => r.controller === true && r.kind === 'CronJob')?.name;
    const behaviour = (step !== undefined ? this.options.steps?.[step] : undefined)
      ?? (step === undefined && cronJob !== undefined ? this.options.cronJobs?.[cronJob] : undefined)
      ?? { durations: [this.options.defaultDuration ?? 10] };
    const run = job.metadata.labels?.[RUN_LABEL];
    return (run !== undefined ? behaviour.runs?.[run] : undefined) ?? behaviour;
  }

  /** The run options name steps of the plan in the coordinator's ConfigMap. */
  private checkRunOptions(): void {
    const volumes: any[] = this.cronJob!.spec?.jobTemplate?.spec?.template?.spec?.volumes ?? [];
    const names = volumes.map((v) => v.configMap?.name).filter((n) => n !== undefined);
    const cm = this.objects.find((o) => o.kind === 'ConfigMap' && names.includes(o.metadata.name));
    if (!cm) throw new SimulatorSetupError(`CronJob ${this.cronJob!.metadata.name} mounts no ConfigMap among the objects`);
    this.checkOptions(parsePlan(cm.data?.plan ?? ''), this.cronJob!.metadata.labels?.[PIPELINE_LABEL] ?? '');
  }

  private maxSeconds(): number {
    if (this.options.maxSimulatedSeconds !== undefined) return this.options.maxSimulatedSeconds;
    const deadline = Number(this.env.MLOPS_RUN_DEADLINE_SECONDS ?? 0);
    const poll = Number(this.env.MLOPS_POLL_SECONDS ?? 10);
    if (this.cronJob) return (this.options.runs?.until ?? 0) + (deadline > 0 ? deadline + 50 * poll : 86400);
    return deadline > 0 ? deadline + 50 * poll : 7 * 86400;
  }

  private stop(error?: string): void {
    if (this.finished) return;
    if (error) this.errors.push(error);
    for (const p of this.procs) if (p.alive) this.kill(p.pod);
    for (const p of this.pods?.procs ?? []) if (p.alive) this.pods!.stop(p.pod.pod);
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.resolveDone();
  }

  // ---- coordinator processes -------------------------------------------------------

  private spawn(job: Job, pod: Pod): void {
    const coord = this.coordinatorOf(job.obj)!;
    const run = this.procs.length;
    const token = randomBytes(8).toString('hex');
    const bin = path.join(this.tmp!, `bin-${run}`);
    writeStandIns(bin, {
      port: this.port,
      token,
      realDate: which('date') ?? '/bin/date',
      kubectl: this.client!.path,
      kubeconfig: coord.spec.hasToken ? this.api!.kubeconfig(token, coord.spec.namespace) : undefined,
    });
    // Each pod gets new emptyDirs: a restarted coordinator starts with an empty kubectl cache.
    for (const d of coord.spec.emptyDirs) {
      fs.rmSync(this.sandbox(coord, d), { recursive: true, force: true });
      fs.mkdirSync(this.sandbox(coord, d), { recursive: true });
    }
    const record: CoordinatorRun = { run, job: coord.spec.job.metadata.name, startedAt: this.cluster!.now - this.epoch, stdout: '', stderr: '' };
    let env: Record<string, string>;
    let argv: string[];
    try {
      env = this.containerEnv(coord, pod.name);
      argv = this.command(coord);
    } catch (e) {
      if (!(e instanceof SimulatorSetupError)) throw e;
      // Such a container could only crash-loop: stop here, with the reason.
      this.errors.push(`cannot start the coordinator${coord === this.coords[0] ? '' : ` ${record.job}`}: ${e.message}`);
      this.procs.push({ record, coord, env: {}, pod, token, alive: false, poll: 0, stall: { polls: 0 }, requests: [] });
      queueMicrotask(() => this.stop());
      return;
    }
    if (coord === this.coords[0]) this.env = env;
    const child = spawn(argv[0], argv.slice(1), {
      cwd: this.tmp,
      env: { ...env, PATH: `${bin}:${env.PATH ?? process.env.PATH ?? '/usr/bin:/bin'}` },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: Proc = { record, coord, env, pod, token, child, alive: true, poll: 0, stall: { polls: 0 }, requests: [] };
    this.procs.push(proc);
    followChild(child, argv[0], record, (exitCode) => {
      if (!proc.alive) return;
      proc.alive = false;
      record.exitCode = exitCode;
      record.endedAt = this.cluster!.now - this.epoch;
      if (this.finished) return;
      this.cluster!.externalExited(pod, exitCode);
      this.schedule();
    });
  }

  private kill(pod: Pod): void {
    const proc = this.procs.find((p) => p.pod === pod);
    if (!proc || !proc.alive) return;
    proc.alive = false;
    proc.parked = undefined;
    proc.record.killed = true;
    proc.record.exitCode = 137;
    proc.record.endedAt = this.cluster!.now - this.epoch;
    this.signal(proc);
    // Its close event is ignored, so the clock must be moved on from here.
    queueMicrotask(() => this.schedule());
  }

  private signal(proc: Proc): void {
    try {
      if (proc.child?.pid) process.kill(-proc.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** The container's environment, with mounted paths moved into the sandbox. */
  private containerEnv(coord: Coordinator, podName: string): Record<string, string> {
    const env: Record<string, string> = {
      HOSTNAME: podName,
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    };
    for (const [k, v] of Object.entries(resolveEnv(coord.spec, coord.objects, podName))) env[k] = this.sandboxValue(coord, v);
    Object.assign(env, this.options.env ?? {});
    if (this.options.pollSeconds !== undefined) env.MLOPS_POLL_SECONDS = String(this.options.pollSeconds);
    return env;
  }

  private command(coord: Coordinator): string[] {
    const c = coord.spec;
    const cmd: string[] = [...(c.container.command ?? []), ...(c.container.args ?? [])];
    if (cmd.length === 0) {
      throw new SimulatorSetupError(`coordinator container "${c.container.name}" sets no command, so the image's entrypoint (kubectl for registry.k8s.io/kubectl) would run instead of the script`);
    }
    if (path.basename(cmd[0]) !== 'bash') throw new SimulatorSetupError(`the simulator runs the coordinator with bash; the container's command is ${JSON.stringify(cmd)}`);
    const bash = which('bash');
    if (!bash) throw new SimulatorSetupError('bash is not on PATH');
    return [bash, ...cmd.slice(1).map((a) => this.sandboxValue(coord, a))];
  }

  /** Write a coordinator's mounted files and create its emptyDirs in its own sandbox root. */
  private writeMounts(coord: Coordinator): void {
    for (const f of coord.spec.files) {
      fs.mkdirSync(path.dirname(this.sandbox(coord, f.path)), { recursive: true });
      fs.writeFileSync(this.sandbox(coord, f.path), f.content);
    }
    for (const d of coord.spec.emptyDirs) fs.mkdirSync(this.sandbox(coord, d), { recursive: true });
  }

  private sandbox(coord: Coordinator, containerPath: string): string {
    return path.join(this.tmp!, coord.root, containerPath);
  }

  private sandboxValue(coord: Coordinator, v: string): string {
    const mount = coord.spec.mountPaths.find((m) => v === m || v.startsWith(`${m.replace(/\/$/, '')}/`));
    return mount ? this.sandbox(coord, v) : v;
  }

  // ---- tool calls ------------------------------------------------------------------

  private onRequest(req: ToolRequest, reply: Reply): void {
    // The containers of one pod share its token and run one after the other: the call is the running one's.
    const lib = this.pods?.procs.find((p) => p.token === req.token && p.alive) ?? this.pods?.procs.find((p) => p.token === req.token);
    if (lib) return this.onLibraryRequest(lib, req, reply);
    const proc = this.procs.find((p) => p.token === req.token);
    if (!proc || !proc.alive || this.finished) {
      reply(137, '', '');
      return;
    }
    const cluster = this.cluster!;
    const at = cluster.now - this.epoch;
    if (this.sameInstant.at !== cluster.now) this.sameInstant = { at: cluster.now, calls: 0 };
    if (req.tool === 'date' && ++this.sameInstant.calls > MAX_POLLS_PER_INSTANT) {
      reply(137, '', '');
      this.stop(`the coordinator read the clock more than ${MAX_POLLS_PER_INSTANT} times at t=${at}s without sleeping (a loop with no sleep?)`);
      return;
    }
    const record = (exitCode: number, stderr: string) =>
      this.calls.push({ at, run: proc.record.run, coordinator: proc.record.job, poll: proc.poll, tool: req.tool as 'date' | 'sleep', argv: req.argv, exitCode, stderr });
    try {
      switch (req.tool) {
        case 'date':
          record(0, '');
          reply(0, `${cluster.now}\n`, '');
          return;
        case 'kubectl-done': {
          // The real kubectl has finished: its requests reached the API server already.
          const [rc, stderr, ...argv] = req.argv;
          const requests = proc.requests;
          proc.requests = [];
          const main = [...requests].reverse().find((r) => r.verb !== 'discovery');
          const exitCode = Number(rc);
          this.calls.push({
            at,
            run: proc.record.run,
            coordinator: proc.record.job,
            poll: proc.poll,
            tool: 'kubectl',
            argv,
            exitCode,
            stderr: stderr ? `${stderr}\n` : '',
            requests,
            request: main && {
              verb: main.verb,
              resource: main.resource ?? '',
              name: main.name,
              body: main.body,
              code: main.code,
              ...(main.verb === 'list' && { pages: requests.filter((r) => r.verb === 'list').length }),
            },
            denied: requests.some((r) => r.code === 401 || r.code === 403) || undefined,
            injected: requests.some((r) => r.injected) || undefined,
            unreachable: (exitCode !== 0 && requests.length === 0 && this.api!.listening) || undefined,
          });
          reply(0, '', '');
          return;
        }
        case 'sleep': {
          const secs = sleepSeconds(req.argv);
          if (typeof secs === 'string') {
            record(1, secs);
            reply(1, '', secs);
            return;
          }
          record(0, '');
          proc.poll++;
          if (this.checkStall(proc)) return;
          proc.parked = { wakeAt: cluster.now + Math.ceil(secs), reply };
          this.schedule();
          return;
        }
        default:
          reply(127, '', `simulator: unknown tool ${String(req.tool)}\n`);
      }
    } catch (e) {
      reply(1, '', '');
      this.stop(`the simulation itself failed: ${(e as Error).stack}`);
    }
  }

  /** A tool call of a library container: the clock, or the end of a kubectl call. */
  private onLibraryRequest(proc: LibraryProc, req: ToolRequest, reply: Reply): void {
    if (!proc.alive || this.finished) {
      reply(137, '', '');
      return;
    }
    const cluster = this.cluster!;
    if (this.sameInstant.at !== cluster.now) this.sameInstant = { at: cluster.now, calls: 0 };
    switch (req.tool) {
      case 'date':
        if (++this.sameInstant.calls > MAX_POLLS_PER_INSTANT) {
          reply(137, '', '');
          this.stop(`container ${proc.record.container} of pod ${proc.record.pod} read the clock more than ${MAX_POLLS_PER_INSTANT} times at t=${cluster.now - this.epoch}s without sleeping (a loop with no sleep?)`);
          return;
        }
        reply(0, `${cluster.now}\n`, '');
        return;
      case 'kubectl-done': {
        const [rc, stderr, ...argv] = req.argv;
        proc.record.kubectl.push({ argv, exitCode: Number(rc), stderr: stderr ? `${stderr}\n` : '', requests: proc.requests });
        proc.requests = [];
        reply(0, '', '');
        return;
      }
      case 'sleep': {
        const secs = sleepSeconds(req.argv);
        if (typeof secs === 'string') {
          reply(1, '', secs);
          return;
        }
        if (this.pods!.paused(proc)) {
          reply(137, '', '');
          this.schedule();
          return;
        }
        proc.poll++;
        proc.parked = { wakeAt: cluster.now + Math.ceil(secs), reply };
        this.schedule();
        return;
      }
      default:
        reply(127, '', `simulator: unknown tool ${String(req.tool)}\n`);
    }
  }

  private inject(verb: string): boolean {
    const at = this.cluster!.now - this.epoch;
    const f = this.injections.find((i) => i.left > 0 && i.at <= at && (i.verb === undefined || i.verb === verb));
    if (!f) return false;
    f.left--;
    return true;
  }

  /** True (and the run stopped) when the coordinator keeps leaving the same work undone. */
  private checkStall(proc: Proc): boolean {
    const owed = this.owed(proc);
    if (owed === undefined) proc.stall = { polls: 0 };
    else proc.stall = { owed, polls: proc.stall.owed === owed ? proc.stall.polls + 1 : 1 };
    const limit = this.options.stallPolls ?? 5;
    if (proc.stall.polls < limit) return false;
    const who = proc.coord === this.coords[0] ? 'the coordinator' : `the coordinator ${proc.record.job}`;
    this.stop(`${who} stalled: ${owed}, still after ${proc.stall.polls} polls`);
    return true;
  }

  /**
   * What the coordinator should already have done, judged from the ground truth (which
   * Jobs ever completed), independently of the script's own logic.
   */
  private owed(proc: Proc): string | undefined {
    const c = proc.coord.spec;
    const cluster = this.cluster!;
    const me = cluster.job(c.namespace, c.job.metadata.name);
    if (!me) return undefined;
    const deadline = Number(proc.env.MLOPS_RUN_DEADLINE_SECONDS ?? 0);
    const cap = Number(proc.env.MLOPS_MAX_PARALLEL ?? 0);
    const late = deadline > 0 && cluster.now - parseTime(me.obj.metadata.creationTimestamp) >= deadline;
    const state = new Map<string, 'complete' | 'failed' | 'skipped' | 'rejected' | 'open'>();
    const live = (job: string) => cluster.job(c.namespace, job);
    let running = 0;
    const groupRunning = new Map<string, number>();
    for (const s of c.plan) {
      const j = live(s.job);
      if (j && j.finishedAt === undefined && j.obj.spec.suspend !== true && !j.obj.metadata.annotations?.[SKIPPED_ANNOTATION]) {
        running++;
        if (s.cap) groupRunning.set(s.cap.group, (groupRunning.get(s.cap.group) ?? 0) + 1);
      }
    }
    for (const s of c.plan) {
      const h = cluster.history.get(s.job);
      const j = live(s.job);
      const verdict = j?.obj.metadata.annotations?.['mlops.cdk8s.io/verdict'];
      if (h?.completedAt !== undefined) state.set(s.step, s.kind === 'gate' && verdict?.startsWith('rejected') ? 'rejected' : 'complete');
      else if (h?.failedAt !== undefined) state.set(s.step, 'failed');
      else if (j?.obj.metadata.annotations?.[SKIPPED_ANNOTATION]) state.set(s.step, 'skipped');
      else {
        const bad = s.upstream.find((u) => state.get(u) === 'failed' || state.get(u) === 'skipped' || state.get(u) === 'rejected');
        // Only `all-succeeded` is judged here; the other trigger rules are the script's to decide.
        if (s.rule !== 'all-succeeded') {
          state.set(s.step, 'open');
          if (late && j) return `the run deadline passed but step ${s.step} is neither finished nor marked skipped`;
          continue;
        }
        if (!j) {
          state.set(s.step, bad ? 'skipped' : 'open');
          continue;
        }
        state.set(s.step, 'open');
        if (bad) return `step ${s.step} is not marked skipped although its upstream ${bad} ${state.get(bad)}`;
        if (late) return `the run deadline passed but step ${s.step} is neither finished nor marked skipped`;
        const groupFull = s.cap !== undefined && (groupRunning.get(s.cap.group) ?? 0) >= s.cap.n;
        if (j.obj.spec.suspend === true && s.upstream.every((u) => state.get(u) === 'complete') && (cap === 0 || running < cap) && !groupFull) {
          return `step ${s.step} is ready (every upstream complete) but was never released`;
        }
      }
    }
    if ([...state.values()].every((v) => v !== 'open')) return 'every step has finished but the coordinator has not exited';
    return undefined;
  }

  // ---- setup -----------------------------------------------------------------------

  private scheduleFaults(cluster: Cluster, c: CoordinatorSpec): void {
    const f = this.options.faults ?? {};
    const at = (t: number) => this.epoch + t;
    for (const t of f.killCoordinatorAt ?? []) {
      cluster.schedule(at(t), 'kill the coordinator', () => {
        const job = cluster.job(c.namespace, c.job.metadata.name);
        if (!job || !cluster.killExternal(job)) cluster.log(c.job.metadata.name, 'no coordinator process to kill');
      });
    }
    for (const t of f.reapplyAt ?? []) cluster.schedule(at(t), 'kubectl apply of the same objects', () => cluster.apply(this.objects));
    for (const a of f.applyAt ?? []) {
      this.pendingApplies++;
      cluster.schedule(at(a.at), `kubectl apply of ${a.objects.length} other objects`, () => {
        this.pendingApplies--;
        this.applyOther(cluster, a.objects);
      });
    }
    for (const d of f.deleteJobs ?? []) {
      const name = d.job ?? c.plan.find((s) => s.step === d.step)!.job;
      cluster.schedule(at(d.at), `kubectl delete job ${name}`, () => {
        try {
          cluster.deleteJob(c.namespace, name, 'kubectl delete');
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          cluster.log(name, e.message);
        }
      });
    }
    for (const d of f.deleteObjects ?? []) {
      cluster.schedule(at(d.at), `kubectl delete ${d.kind.toLowerCase()} ${d.name}`, () => {
        if (!cluster.deleteObject(d.kind, c.namespace, d.name)) cluster.log(undefined, `${d.kind} ${d.name} not found`);
      });
    }
    for (const d of f.apiServerDown ?? []) {
      cluster.schedule(at(d.at), `the API server stops listening for ${d.for}s`, () => this.api!.stopListening());
      cluster.schedule(at(d.at + d.for), 'the API server listens again', () => {
        // Listening again is asynchronous; the clock stands still until it is done.
        const port = this.api!.port;
        this.api!.start(port).catch((e) => this.stop(`the API server could not listen again on port ${port}: ${(e as Error).message}`));
      });
    }
  }

  /**
   * `kubectl apply` of another object set. A coordinator Job in it that the cluster does
   * not hold yet gets its own process once its pod starts, loaded from these objects as
   * the first coordinator was from the first set.
   */
  private applyOther(cluster: Cluster, objects: readonly ManifestObject[]): void {
    const fresh = objects.some(
      (o) =>
        o.kind === 'Job' &&
        o.metadata.labels?.[ROLE_LABEL] === 'coordinator' &&
        (this.options.pipeline === undefined || o.metadata.labels?.[PIPELINE_LABEL] === this.options.pipeline) &&
        !this.coordinatorOf({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? this.namespace } }) &&
        !cluster.job(o.metadata.namespace ?? this.namespace, o.metadata.name),
    );
    if (fresh) {
      try {
        const spec = loadCoordinator(objects, this.namespace, this.options.pipeline);
        if (!this.coordinatorOf({ ...spec.job, metadata: { ...spec.job.metadata, namespace: spec.namespace } })) {
          const coord: Coordinator = { spec, objects, root: `root-${this.coords.length}`, appliedAt: cluster.now - this.epoch };
          this.coords.push(coord);
          this.writeMounts(coord);
        }
      } catch (e) {
        if (!(e instanceof SimulatorSetupError)) throw e;
        this.stop(`cannot start the coordinator applied at t=${cluster.now - this.epoch}s: ${e.message}`);
        return;
      }
    }
    cluster.apply(objects);
  }

  /** A typo in a step id would silently test nothing: refuse it. */
  private checkOptions(plan: readonly PlanEntry[], pipeline: string): void {
    const steps = new Set(plan.map((s) => s.step));
    const known = `a step of pipeline ${pipeline} (${[...steps].join(', ')})`;
    for (const s of Object.keys(this.options.steps ?? {})) {
      if (!steps.has(s)) throw new SimulatorSetupError(`options.steps names "${s}", which is not ${known}`);
    }
    for (const d of this.options.faults?.deleteJobs ?? []) {
      if (d.job === undefined && !steps.has(d.step ?? '')) throw new SimulatorSetupError(`faults.deleteJobs names step "${d.step}", which is not ${known}`);
    }
    const others = this.otherCronJobs.map((o) => o.metadata.name);
    for (const name of Object.keys(this.options.cronJobs ?? {})) {
      if (!others.includes(name)) throw new SimulatorSetupError(`options.cronJobs names "${name}", which is not a CronJob of the objects other than a pipeline's (${others.join(', ') || 'none'})`);
    }
  }

  private checkTools(): void {
    for (const tool of ['bash', 'jq']) if (!which(tool)) this.warnings.push(`${tool} is not on PATH`);
    try {
      const v = execFileSync('jq', ['--version'], { encoding: 'utf8' }).trim();
      if (v !== 'jq-1.6') this.warnings.push(`this machine runs ${v}; registry.k8s.io/kubectl (Debian bookworm) ships jq-1.6`);
    } catch {
      // reported above
    }
  }

  private result(): SimulationResult {
    // Show paths as the container sees them, not where the sandbox put them.
    if (this.tmp) {
      for (const p of this.procs) {
        const root = path.join(this.tmp, p.coord.root);
        p.record.stdout = p.record.stdout.split(root).join('');
        p.record.stderr = p.record.stderr.split(root).join('');
      }
    }
    this.pods?.tidy();
    const containers = this.pods?.records ?? [];
    // A library container refused by the API is as wrong as a refused coordinator: its Role is not enough.
    const refused = new Set<string>();
    for (const k of containers) {
      for (const call of k.kubectl.filter((x) => x.requests.some((r) => r.code === 401 || r.code === 403))) {
        refused.add(`the API refused container ${k.container} of step ${k.step ?? k.job}: \`kubectl ${call.argv.join(' ')}\`: ${call.stderr.trim()}`);
      }
    }
    // So is one that writes where its pod mounts read-only (read-only-mounts.ts), once per container and path.
    for (const k of containers.filter((x) => x.readOnlyWrite !== undefined)) {
      refused.add(`container ${k.container} of step ${k.step ?? k.job} wrote ${k.readOnlyWrite}, under a mount its pod marks readOnly: `
        + 'on a cluster the write fails (EROFS, read-only file system)');
    }
    this.errors.push(...refused);
    return buildResult({
      containers,
      claims: this.pods && this.tmp ? this.pods.claims() : {},
      coordinators: this.coords.map((k) => ({ spec: k.spec, appliedAt: k.appliedAt })),
      cluster: this.cluster,
      epoch: this.epoch,
      errors: this.errors,
      warnings: this.warnings,
      calls: this.calls,
      runs: this.procs.map((p) => p.record),
      cap: Number(this.env.MLOPS_MAX_PARALLEL ?? 0),
      wallMs: Date.now() - this.started,
      client: this.client,
      coordinatorCondition: (obj) => condition(obj, 'Complete') ?? condition(obj, 'Failed'),
    });
  }
}
