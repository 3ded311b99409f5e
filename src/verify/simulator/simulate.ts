import { ChildProcess, execFileSync, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Cluster, condition, Job, parseTime, Pod } from './cluster';
import { kubectl } from './kubectl';
import { SKIPPED_ANNOTATION, STEP_LABEL } from '../../conventions';
import { CoordinatorSpec, loadCoordinator, SimulatorSetupError, resolveEnv } from './load';
import { serveTools, sleepSeconds, Reply, ToolRequest, which, writeStandIns } from './standins';
import { buildResult } from './timeline';
import { CallRecord, CoordinatorRun, ManifestObject, SimulateOptions, SimulationResult } from './types';

/**
 * `date` calls at one simulated instant beyond which the script is taken to loop without
 * sleeping. A poll reads the clock once; patches are not counted because a wide fan-out
 * legitimately makes hundreds of them at one instant.
 */
const MAX_POLLS_PER_INSTANT = 50;
const DEFAULT_EPOCH = 1_700_000_000;

interface Proc {
  readonly record: CoordinatorRun;
  readonly pod: Pod;
  readonly token: string;
  readonly child?: ChildProcess;
  alive: boolean;
  /** Waiting in `sleep` until `wakeAt`; `reply` ends the sleep. */
  parked?: { wakeAt: number; reply: Reply };
  poll: number;
  stall: { owed?: string; polls: number };
}

/**
 * Run the coordinator of synthesized objects against a simulated cluster: the script from
 * the ConfigMap runs in bash as it would in the pod, with `kubectl`, `date` and `sleep`
 * answered by the simulation, whose clock moves only when the script sleeps.
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
  private coordinator?: CoordinatorSpec;
  private cluster?: Cluster;
  private server?: net.Server;
  private port = 0;
  private tmp?: string;
  private env: Record<string, string> = {};
  private finished = false;
  private resolveDone: () => void = () => undefined;
  private timer?: NodeJS.Timeout;
  private sameInstant = { at: -1, calls: 0 };
  private readonly injections: Array<{ at: number; verb?: string; left: number }>;

  constructor(
    private readonly objects: readonly ManifestObject[],
    private readonly options: SimulateOptions,
  ) {
    this.epoch = options.startTime ?? DEFAULT_EPOCH;
    this.namespace = options.namespace ?? 'default';
    this.injections = (options.faults?.failKubectl ?? []).map((f) => ({ at: f.at, verb: f.verb, left: f.times ?? 1 }));
  }

  async run(): Promise<SimulationResult> {
    let c: CoordinatorSpec;
    try {
      c = loadCoordinator(this.objects, this.namespace, this.options.pipeline);
      this.coordinator = c;
      this.checkOptions(c);
    } catch (e) {
      if (!(e instanceof SimulatorSetupError)) throw e;
      this.errors.push(`cannot start the coordinator: ${e.message}`);
      return this.result();
    }
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-sim-'));
    for (const f of c.files) {
      fs.mkdirSync(path.dirname(this.sandbox(f.path)), { recursive: true });
      fs.writeFileSync(this.sandbox(f.path), f.content);
    }
    for (const d of c.emptyDirs) fs.mkdirSync(this.sandbox(d), { recursive: true });
    this.checkTools();

    const { server, port } = await serveTools((req, reply) => this.onRequest(req, reply));
    this.server = server;
    this.port = port;

    const cluster = new Cluster({
      epoch: this.epoch,
      namespace: this.namespace,
      podStartSeconds: this.options.podStartSeconds ?? 0,
      behaviour: (job) => {
        if (job.metadata.name === c.job.metadata.name) return 'external';
        const step = job.metadata.labels?.[STEP_LABEL];
        return (step !== undefined ? this.options.steps?.[step] : undefined) ?? { durations: [this.options.defaultDuration ?? 10] };
      },
    });
    cluster.hooks = {
      startExternal: (job, pod) => this.spawn(job, pod),
      stopExternal: (pod) => this.kill(pod),
    };
    this.cluster = cluster;
    this.scheduleFaults(cluster, c);

    const done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    this.timer = setTimeout(() => this.stop(`the simulation ran out of its ${this.options.timeoutMs ?? 60_000} ms wall-clock budget`), this.options.timeoutMs ?? 60_000);
    try {
      cluster.apply(this.objects);
      this.schedule();
    } catch (e) {
      this.stop(`the simulation itself failed: ${(e as Error).stack}`);
    }
    await done;
    return this.result();
  }

  dispose(): void {
    for (const p of this.procs) if (p.alive) this.signal(p);
    if (this.timer) clearTimeout(this.timer);
    this.server?.close();
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
      while (!this.finished) {
        const alive = this.procs.filter((p) => p.alive);
        if (alive.some((p) => !p.parked)) return;
        if (alive.length === 0 && this.coordinatorFinished()) return this.finish();
        const wake = Math.min(...alive.map((p) => p.parked!.wakeAt));
        const next = Math.min(wake, cluster.nextEventTime() ?? Infinity);
        if (next === Infinity) return this.stop('nothing is left to happen but the coordinator Job has not finished (its pod is gone and no restart is due)');
        if (next > limit) return this.stop(`the run did not finish within ${limit - this.epoch} simulated seconds`);
        cluster.step(next);
        for (const p of alive) {
          if (p.alive && p.parked && p.parked.wakeAt <= cluster.now) {
            const { reply } = p.parked;
            p.parked = undefined;
            reply(0, '', '');
          }
        }
      }
    } catch (e) {
      this.stop(`the simulation itself failed: ${(e as Error).stack}`);
    }
  }

  private coordinatorFinished(): boolean {
    const job = this.cluster!.job(this.coordinator!.namespace, this.coordinator!.job.metadata.name);
    return !job || job.finishedAt !== undefined;
  }

  private maxSeconds(): number {
    if (this.options.maxSimulatedSeconds !== undefined) return this.options.maxSimulatedSeconds;
    const deadline = Number(this.env.MLOPS_RUN_DEADLINE_SECONDS ?? 0);
    const poll = Number(this.env.MLOPS_POLL_SECONDS ?? 10);
    return deadline > 0 ? deadline + 50 * poll : 7 * 86400;
  }

  private stop(error?: string): void {
    if (this.finished) return;
    if (error) this.errors.push(error);
    for (const p of this.procs) if (p.alive) this.kill(p.pod);
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.resolveDone();
  }

  // ---- coordinator processes -------------------------------------------------------

  private spawn(_job: Job, pod: Pod): void {
    const run = this.procs.length;
    const token = randomBytes(8).toString('hex');
    const bin = path.join(this.tmp!, `bin-${run}`);
    writeStandIns(bin, this.port, token, which('date') ?? '/bin/date');
    const record: CoordinatorRun = { run, startedAt: this.cluster!.now - this.epoch, stdout: '', stderr: '' };
    let env: Record<string, string>;
    let argv: string[];
    try {
      env = this.containerEnv(pod.name);
      argv = this.command();
    } catch (e) {
      if (!(e instanceof SimulatorSetupError)) throw e;
      // Such a container could only crash-loop: stop here, with the reason.
      this.errors.push(`cannot start the coordinator: ${e.message}`);
      this.procs.push({ record, pod, token, alive: false, poll: 0, stall: { polls: 0 } });
      queueMicrotask(() => this.stop());
      return;
    }
    this.env = env;
    const child = spawn(argv[0], argv.slice(1), {
      cwd: this.tmp,
      env: { ...env, PATH: `${bin}:${env.PATH ?? process.env.PATH ?? '/usr/bin:/bin'}` },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: Proc = { record, pod, token, child, alive: true, poll: 0, stall: { polls: 0 } };
    this.procs.push(proc);
    child.stdout!.on('data', (d: Buffer) => (record.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (record.stderr += d.toString()));
    child.on('error', (e) => (record.stderr += `simulator: cannot run ${argv[0]}: ${e.message}\n`));
    child.on('close', (code, sig) => {
      if (!proc.alive) return;
      proc.alive = false;
      const exitCode = code ?? 128 + (os.constants.signals[sig as NodeJS.Signals] ?? 0);
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
  private containerEnv(podName: string): Record<string, string> {
    const c = this.coordinator!;
    const env: Record<string, string> = {
      HOSTNAME: podName,
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    };
    for (const [k, v] of Object.entries(resolveEnv(c, this.objects, podName))) env[k] = this.sandboxValue(v);
    Object.assign(env, this.options.env ?? {});
    if (this.options.pollSeconds !== undefined) env.MLOPS_POLL_SECONDS = String(this.options.pollSeconds);
    return env;
  }

  private command(): string[] {
    const c = this.coordinator!;
    const cmd: string[] = [...(c.container.command ?? []), ...(c.container.args ?? [])];
    if (cmd.length === 0) {
      throw new SimulatorSetupError(`coordinator container "${c.container.name}" sets no command, so the image's entrypoint (kubectl for registry.k8s.io/kubectl) would run instead of the script`);
    }
    if (path.basename(cmd[0]) !== 'bash') throw new SimulatorSetupError(`the simulator runs the coordinator with bash; the container's command is ${JSON.stringify(cmd)}`);
    const bash = which('bash');
    if (!bash) throw new SimulatorSetupError('bash is not on PATH');
    return [bash, ...cmd.slice(1).map((a) => this.sandboxValue(a))];
  }

  private sandbox(containerPath: string): string {
    return path.join(this.tmp!, 'root', containerPath);
  }

  private sandboxValue(v: string): string {
    const mount = this.coordinator!.mountPaths.find((m) => v === m || v.startsWith(`${m.replace(/\/$/, '')}/`));
    return mount ? this.sandbox(v) : v;
  }

  // ---- tool calls ------------------------------------------------------------------

  private onRequest(req: ToolRequest, reply: Reply): void {
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
    const record = (exitCode: number, stderr: string, extra: Partial<CallRecord> = {}) =>
      this.calls.push({ at, run: proc.record.run, poll: proc.poll, tool: req.tool, argv: req.argv, exitCode, stderr, ...extra });
    try {
      switch (req.tool) {
        case 'date':
          record(0, '');
          reply(0, `${cluster.now}\n`, '');
          return;
        case 'kubectl': {
          const r = kubectl(
            {
              cluster,
              identity: { namespace: this.coordinator!.namespace, serviceAccount: this.coordinator!.serviceAccount },
              hasToken: this.coordinator!.hasToken,
              inject: (verb) => this.inject(verb),
            },
            req.argv,
          );
          record(r.exitCode, r.stderr, { request: r.request, denied: r.denied, injected: r.injected });
          reply(r.exitCode, r.stdout, r.stderr);
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

  private inject(verb: string): boolean {
    const at = this.cluster!.now - this.epoch;
    const f = this.injections.find((i) => i.left > 0 && i.at <= at && (i.verb === undefined || i.verb === verb));
    if (!f) return false;
    f.left--;
    return true;
  }

  /** True (and the run stopped) when the coordinator keeps leaving the same work undone. */
  private checkStall(proc: Proc): boolean {
    const owed = this.owed();
    if (owed === undefined) proc.stall = { polls: 0 };
    else proc.stall = { owed, polls: proc.stall.owed === owed ? proc.stall.polls + 1 : 1 };
    const limit = this.options.stallPolls ?? 5;
    if (proc.stall.polls < limit) return false;
    this.stop(`the coordinator stalled: ${owed}, still after ${proc.stall.polls} polls`);
    return true;
  }

  /**
   * What the coordinator should already have done, judged from the ground truth (which
   * Jobs ever completed), independently of the script's own logic.
   */
  private owed(): string | undefined {
    const c = this.coordinator!;
    const cluster = this.cluster!;
    const me = cluster.job(c.namespace, c.job.metadata.name);
    if (!me) return undefined;
    const deadline = Number(this.env.MLOPS_RUN_DEADLINE_SECONDS ?? 0);
    const cap = Number(this.env.MLOPS_MAX_PARALLEL ?? 0);
    const late = deadline > 0 && cluster.now - parseTime(me.obj.metadata.creationTimestamp) >= deadline;
    const state = new Map<string, 'complete' | 'failed' | 'skipped' | 'open'>();
    const live = (job: string) => cluster.job(c.namespace, job);
    let running = 0;
    for (const s of c.plan) {
      const j = live(s.job);
      if (j && j.finishedAt === undefined && j.obj.spec.suspend !== true && !j.obj.metadata.annotations?.[SKIPPED_ANNOTATION]) running++;
    }
    for (const s of c.plan) {
      const h = cluster.history.get(s.job);
      const j = live(s.job);
      if (h?.completedAt !== undefined) state.set(s.step, 'complete');
      else if (h?.failedAt !== undefined) state.set(s.step, 'failed');
      else if (j?.obj.metadata.annotations?.[SKIPPED_ANNOTATION]) state.set(s.step, 'skipped');
      else {
        const bad = s.upstream.find((u) => state.get(u) === 'failed' || state.get(u) === 'skipped');
        if (!j) {
          state.set(s.step, bad ? 'skipped' : 'open');
          continue;
        }
        state.set(s.step, 'open');
        if (bad) return `step ${s.step} is not marked skipped although its upstream ${bad} ${state.get(bad)}`;
        if (late) return `the run deadline passed but step ${s.step} is neither finished nor marked skipped`;
        if (j.obj.spec.suspend === true && s.upstream.every((u) => state.get(u) === 'complete') && (cap === 0 || running < cap)) {
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
    for (const d of f.deleteJobs ?? []) {
      const name = d.job ?? c.plan.find((s) => s.step === d.step)!.job;
      cluster.schedule(at(d.at), `kubectl delete job ${name}`, () => cluster.deleteJob(c.namespace, name, 'kubectl delete'));
    }
  }

  /** A typo in a step id would silently test nothing: refuse it. */
  private checkOptions(c: CoordinatorSpec): void {
    const steps = new Set(c.plan.map((s) => s.step));
    const known = `a step of pipeline ${c.pipeline} (${[...steps].join(', ')})`;
    for (const s of Object.keys(this.options.steps ?? {})) {
      if (!steps.has(s)) throw new SimulatorSetupError(`options.steps names "${s}", which is not ${known}`);
    }
    for (const d of this.options.faults?.deleteJobs ?? []) {
      if (d.job === undefined && !steps.has(d.step ?? '')) throw new SimulatorSetupError(`faults.deleteJobs names step "${d.step}", which is not ${known}`);
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
    const root = this.tmp ? path.join(this.tmp, 'root') : undefined;
    if (root) {
      for (const p of this.procs) {
        p.record.stdout = p.record.stdout.split(root).join('');
        p.record.stderr = p.record.stderr.split(root).join('');
      }
    }
    return buildResult({
      coordinator: this.coordinator,
      cluster: this.cluster,
      epoch: this.epoch,
      errors: this.errors,
      warnings: this.warnings,
      calls: this.calls,
      runs: this.procs.map((p) => p.record),
      cap: Number(this.env.MLOPS_MAX_PARALLEL ?? 0),
      wallMs: Date.now() - this.started,
      coordinatorCondition: (obj) => condition(obj, 'Complete') ?? condition(obj, 'Failed'),
    });
  }
}
