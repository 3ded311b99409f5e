import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { STEP_LABEL } from '../../conventions';
import type { ApiRequest, ApiServer } from './api-server';
import { Cluster, Job, plannedRun, Pod } from './cluster';
import type { KubectlClient } from './kubectl-client';
import { libraryImages, libraryScript, literalMountPath, PodContainer, podContainers } from './library-pods';
import { followChild } from './child-output';
import { SimulatorSetupError } from './load';
import { containerEnv, expand, PodContext, SERVICE_ENV } from './pod-env';
import { ReadOnlyMounts } from './read-only-mounts';
import { admitPod, containerMounts, hasToken, hostPath, materializeVolumes, Mount } from './pod-volumes';
import { serviceAccountUser, User } from './rbac';
import { Reply, which, writeStandIns } from './standins';
import { ContainerRun, LibraryContainer, ManifestObject, StepBehaviour } from './types';

/** The label and annotation of an Indexed Job's pod (pkg/controller/job/indexed_job_utils.go). */
const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

/** What the runner needs from the simulation around it. */
export interface RunnerHost {
  readonly cluster: Cluster;
  readonly api: ApiServer;
  readonly client: KubectlClient;
  /** The simulation's sandbox directory. */
  readonly tmp: string;
  /** The port of the stand-ins' loopback server. */
  readonly port: number;
  readonly epoch: number;
  /** The modelled behaviour of a Job's user container. */
  behaviour(job: Job): StepBehaviour;
  /** Stop the simulation with an error. */
  fail(error: string): void;
  /** Why a library container may not run here, if it may not (SimulateOptions.allowLibraryContainer). */
  refuse?(container: LibraryContainer): string | undefined;
}

/** A library container's process, parked in `sleep` like a coordinator's. */
export interface LibraryProc {
  readonly token: string;
  readonly user?: User;
  readonly record: ContainerRun;
  readonly pod: LibraryPod;
  readonly child?: ChildProcess;
  readonly mounts: readonly Mount[];
  /** Its readOnly mounts, watched while it runs. */
  readonly readOnly: ReadOnlyMounts;
  alive: boolean;
  parked?: { wakeAt: number; reply: Reply };
  poll: number;
  requests: ApiRequest[];
}

/** One pod of a Job with a library container, run container by container. */
interface LibraryPod {
  readonly job: Job;
  readonly pod: Pod;
  readonly ctx: PodContext;
  readonly spec: any;
  readonly containers: readonly PodContainer[];
  /** The container the step behaviour models: the last user container. */
  readonly modelled: number;
  readonly volumes: Map<string, string>;
  readonly token: string;
  next: number;
  done: boolean;
}

/**
 * Runs the pods of Jobs that have a library container (`isLibraryContainer`) as the kubelet
 * would: volumes made once per pod, then the init containers in order and the main
 * container, each started only after the previous one exited 0 (a non-zero exit fails the
 * pod, restartPolicy Never). A library container is a real bash process with the real
 * kubectl, authenticated as the pod's ServiceAccount by a token bound to the pod; a user
 * container is modelled by the step's behaviour and leaves the files it declares.
 *
 * Library processes start one at a time, only while every other process sleeps, in the
 * order their containers became due: runs stay deterministic.
 */
export class LibraryPodRunner {
  readonly procs: LibraryProc[] = [];
  readonly records: ContainerRun[] = [];
  private readonly pods = new Map<Pod, LibraryPod>();
  private readonly due: Array<{ lp: LibraryPod; index: number }> = [];
  private readonly decided = new Map<string, boolean>();
  private images?: Set<string>;

  constructor(private readonly host: RunnerHost, private readonly known: () => readonly ManifestObject[]) {}

  /** Whether the simulation runs this Job's pods here (one of its containers is the library's). */
  runsPodsOf(job: ManifestObject): boolean {
    const key = `${job.metadata.namespace}/${job.metadata.name}/${job.metadata.uid ?? ''}`;
    let yes = this.decided.get(key);
    if (yes === undefined) {
      const objects = this.known();
      this.images ??= libraryImages(objects);
      yes = podContainers(job.spec?.template?.spec ?? {}, objects, this.images).some((c) => c.library);
      this.decided.set(key, yes);
    }
    return yes;
  }

  /** The pod's containers start: make its volumes and run the first container. */
  start(job: Job, pod: Pod): void {
    const cluster = this.host.cluster;
    const ns: string = job.obj.metadata.namespace!;
    const template = job.obj.spec.template ?? {};
    const stored = cluster.objects();
    const saName: string = template.spec?.serviceAccountName ?? template.spec?.serviceAccount ?? 'default';
    const sa = stored.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === saName && o.metadata.namespace === ns);
    if (!sa && saName !== 'default') {
      // The ServiceAccount admission plugin refuses the pod; the Job controller retries forever.
      this.host.fail(`pods "${pod.name}" is forbidden: error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`);
      return;
    }
    const indexed = job.obj.spec.completionMode === 'Indexed';
    const ctx: PodContext = {
      name: pod.name,
      namespace: ns,
      uid: `00000000-0000-4000-9000-${(this.pods.size + 1).toString(16).padStart(12, '0')}`,
      labels: { ...template.metadata?.labels, ...(indexed && { [COMPLETION_INDEX]: String(pod.index) }) },
      annotations: { ...template.metadata?.annotations, ...(indexed && { [COMPLETION_INDEX]: String(pod.index) }) },
      serviceAccount: saName,
      // The root CA publisher puts kube-root-ca.crt into every namespace
      // (pkg/controller/certificates/rootcacertpublisher/publisher.go).
      objects: [...stored, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: ns }, data: { 'ca.crt': this.host.api.ca } }],
    };
    const spec = admitPod(withCompletionIndexEnv(template.spec ?? {}, indexed), sa);
    const containers = podContainers(spec, this.known(), this.images ?? new Set());
    const token = randomBytes(8).toString('hex');
    let volumes: Map<string, string>;
    try {
      volumes = materializeVolumes(spec, ctx, { claim: (n, c) => claimDir(this.host.tmp, n, c), pod: path.join(this.host.tmp, 'pods', pod.name) }, { token });
    } catch (e) {
      if (!(e instanceof SimulatorSetupError)) throw e;
      this.host.fail(e.message);
      return;
    }
    const userIndexes = containers.map((c, i) => (c.library ? -1 : i)).filter((i) => i >= 0);
    const lp: LibraryPod = { job, pod, ctx, spec, containers, modelled: userIndexes[userIndexes.length - 1] ?? -1, volumes, token, next: 0, done: false };
    this.pods.set(pod, lp);
    this.runNext(lp);
  }

  /** The pod is deleted or killed: its running process is stopped, nothing more of it runs. */
  stop(pod: Pod): void {
    const lp = this.pods.get(pod);
    if (!lp) return;
    lp.done = true;
    for (let i = this.due.length - 1; i >= 0; i--) if (this.due[i].lp === lp) this.due.splice(i, 1);
    for (const p of this.procs.filter((x) => x.pod === lp && x.alive)) {
      p.alive = false;
      p.parked = undefined;
      p.record.killed = true;
      p.record.exitCode = 137;
      p.record.endedAt = this.host.cluster.now - this.host.epoch;
      signal(p);
    }
  }

  /** Start the next library container that is due, if any; true when one started. */
  startDue(): boolean {
    const next = this.due.shift();
    if (!next) return false;
    this.spawn(next.lp, next.index);
    return true;
  }

  killAll(): void {
    for (const p of this.procs) if (p.alive) signal(p);
  }

  /** Its paths shown as the container sees them. */
  tidy(): void {
    for (const p of this.procs) {
      for (const m of p.mounts) {
        p.record.stdout = p.record.stdout.split(m.host).join(m.path);
        p.record.stderr = p.record.stderr.split(m.host).join(m.path);
      }
    }
  }

  /** Every file on every claim, by claim name, then path inside the claim. */
  claims(): Record<string, Record<string, string>> {
    const root = path.join(this.host.tmp, 'claims');
    const out: Record<string, Record<string, string>> = {};
    if (!fs.existsSync(root)) return out;
    for (const ns of fs.readdirSync(root).sort()) {
      for (const claim of fs.readdirSync(path.join(root, ns)).sort()) {
        const files: Record<string, string> = (out[claim] ??= {});
        const walk = (dir: string, rel: string) => {
          for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(file, `${rel}${entry.name}/`);
            else if (entry.isFile()) files[`${rel}${entry.name}`] = fs.readFileSync(file, 'utf8');
          }
        };
        walk(path.join(root, ns, claim), '');
      }
    }
    return out;
  }

  /**
   * What a modelled user container leaves when it exits 0 (its behaviour's `files`), in any
   * pod: written through the container's mounts, so a file on a claim outlives the pod.
   */
  writeFiles(job: Job, pod: Pod, container: any, script: StepBehaviour, volumes?: Map<string, string>): void {
    if (!script.files || Object.keys(script.files).length === 0) return;
    const ns: string = job.obj.metadata.namespace!;
    const template = job.obj.spec.template ?? {};
    const ctx: PodContext = {
      name: pod.name, namespace: ns, uid: '', labels: template.metadata?.labels ?? {}, annotations: template.metadata?.annotations ?? {},
      serviceAccount: template.spec?.serviceAccountName ?? 'default', objects: this.host.cluster.objects(),
    };
    try {
      const env = { ...SERVICE_ENV, ...containerEnv(container, ctx, true) };
      const vols = volumes ?? materializeVolumes(withoutKeyVolumes(template.spec ?? {}), ctx, { claim: (n, c) => claimDir(this.host.tmp, n, c), pod: path.join(this.host.tmp, 'pods', pod.name) }, { token: '' });
      const mounts = containerMounts(container, vols, env, pod.name);
      for (const [declared, content] of Object.entries(script.files)) {
        const file = declared.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a, b) => {
          const v = env[a ?? b];
          if (v === undefined) throw new SimulatorSetupError(`the files of step ${template.metadata?.labels?.[STEP_LABEL] ?? job.obj.metadata.name} name ${m} in "${declared}", which container "${container.name}" does not have in its environment`);
          return v;
        });
        const host = hostPath(mounts, file);
        if (host === undefined) {
          throw new SimulatorSetupError(`step ${template.metadata?.labels?.[STEP_LABEL] ?? job.obj.metadata.name} writes ${file}, which is on no volume of container "${container.name}" (it would be lost with the container)`);
        }
        fs.mkdirSync(path.dirname(host), { recursive: true });
        fs.writeFileSync(host, content);
      }
    } catch (e) {
      if (!(e instanceof SimulatorSetupError)) throw e;
      this.host.fail(e.message);
    }
  }

  /** A process of this runner ended by itself. */
  private exited(p: LibraryProc, exitCode: number): void {
    const lp = p.pod;
    if (lp.done || lp.pod.phase !== 'Running') return;
    this.containerEnded(lp, lp.containers[lp.next - 1].spec.name, exitCode);
  }

  private runNext(lp: LibraryPod): void {
    if (lp.done || lp.pod.phase !== 'Running') return;
    const cluster = this.host.cluster;
    if (lp.next >= lp.containers.length) {
      lp.done = true;
      cluster.externalExited(lp.pod, 0);
      return;
    }
    const index = lp.next++;
    const c = lp.containers[index];
    if (c.library) {
      this.due.push({ lp, index });
      return;
    }
    // A modelled container: the step's behaviour for the user's, at once for the others.
    const behaviour = index === lp.modelled ? plannedRun(lp.job, lp.pod, this.host.behaviour(lp.job)) : undefined;
    const ends = cluster.now + (behaviour?.duration ?? 0);
    cluster.schedule(ends, `container ${c.spec.name} of pod ${lp.pod.name} exits`, () => {
      if (lp.done || lp.pod.phase !== 'Running') return;
      const code = behaviour?.exitCode ?? 0;
      if (code === 0 && behaviour) this.writeFiles(lp.job, lp.pod, c.spec, behaviour.script, lp.volumes);
      this.containerEnded(lp, c.spec.name, code);
    }, false);
  }

  private containerEnded(lp: LibraryPod, container: string, exitCode: number): void {
    this.host.cluster.log(lp.job.obj.metadata.name, `container ${container} of pod ${lp.pod.name} exited ${exitCode}`);
    if (exitCode === 0) return this.runNext(lp);
    lp.done = true;
    lp.pod.failedContainer = container;
    this.host.cluster.externalExited(lp.pod, exitCode);
  }

  private spawn(lp: LibraryPod, index: number): void {
    const { cluster, epoch } = this.host;
    const c = lp.containers[index].spec;
    const record: ContainerRun = {
      job: lp.job.obj.metadata.name, step: lp.ctx.labels[STEP_LABEL], pod: lp.pod.name, container: c.name,
      startedAt: cluster.now - epoch, stdout: '', stderr: '', kubectl: [],
    };
    this.records.push(record);
    let env: Record<string, string>;
    let mounts: Mount[];
    let argv: string[];
    try {
      const declared = containerEnv(c, lp.ctx);
      mounts = containerMounts(c, lp.volumes, declared, lp.pod.name);
      const inSandbox = (v: string) => hostPath(mounts, v) ?? v;
      env = { HOSTNAME: lp.pod.name, ...SERVICE_ENV };
      for (const [k, v] of Object.entries(declared)) env[k] = inSandbox(v);
      // pkg/kubelet/container/helpers.go, ExpandContainerCommandAndArgs: $(VAR) from the container's env.
      argv = [...(c.command ?? []), ...(c.args ?? [])].map((a: string) => inSandbox(expand(a, { ...SERVICE_ENV, ...declared })));
      const script = libraryScript(c, lp.spec, this.known(), this.images ?? new Set()) ?? '';
      const refusal = this.host.refuse?.({ step: record.step, container: c.name, script, env: declared, mountPaths: mounts.map((m) => m.path) });
      if (refusal !== undefined) throw new SimulatorSetupError(`container "${c.name}" of step ${record.step ?? record.job} was not run: ${refusal}`);
      const literal = literalMountPath(script, mounts.map((m) => m.path));
      if (literal !== undefined) {
        throw new SimulatorSetupError(`the library script of container "${c.name}" (step ${record.step ?? record.job}) names its mount path ${literal} literally: take it from an env var, which the simulator maps into its sandbox`);
      }
      const bash = which('bash');
      if (!bash) throw new SimulatorSetupError('bash is not on PATH');
      argv[0] = bash;
    } catch (e) {
      if (!(e instanceof SimulatorSetupError)) throw e;
      this.host.fail(e.message);
      return;
    }
    const bin = path.join(this.host.tmp, 'pods', lp.pod.name, `bin-${c.name}`);
    const token = hasToken(mounts) ? lp.token : undefined;
    // A token unknown to the API server stands for no token: the stand-ins still need one to report with.
    const callId = token ?? randomBytes(8).toString('hex');
    writeStandIns(bin, {
      port: this.host.port,
      token: callId,
      realDate: which('date') ?? '/bin/date',
      kubectl: this.host.client.path,
      kubeconfig: token ? this.host.api.kubeconfig(token, lp.ctx.namespace) : undefined,
    });
    const readOnly = new ReadOnlyMounts(mounts);
    readOnly.take();
    const cwd = c.workingDir ? hostPath(mounts, c.workingDir) ?? path.join(this.host.tmp, 'pods', lp.pod.name) : path.join(this.host.tmp, 'pods', lp.pod.name);
    const child = spawn(argv[0], argv.slice(1), {
      cwd,
      env: { ...env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: LibraryProc = {
      token: callId, user: token ? serviceAccountUser(lp.ctx.namespace, lp.ctx.serviceAccount) : undefined, record, pod: lp, child, mounts,
      readOnly, alive: true, poll: 0, requests: [],
    };
    this.procs.push(proc);
    followChild(child, argv[0], record, (code) => {
      if (!proc.alive) return;
      proc.alive = false;
      // Its write would have failed; a script under `set -e` exits 1 on a failed redirection.
      const exitCode = this.wroteReadOnly(proc) && code === 0 ? 1 : code;
      record.exitCode = exitCode;
      record.endedAt = cluster.now - epoch;
      this.exited(proc, exitCode);
      this.onExit();
    });
  }

  /**
   * The process sleeps, so others run: a write of its own under a read-only mount fails the
   * container now (its process is killed). True when it did.
   */
  paused(p: LibraryProc): boolean {
    if (!this.wroteReadOnly(p)) return false;
    p.alive = false;
    p.parked = undefined;
    p.record.exitCode = 1;
    p.record.endedAt = this.host.cluster.now - this.host.epoch;
    signal(p);
    this.exited(p, 1);
    return true;
  }

  /** The process runs again after a sleep: what its read-only mounts hold now must stay. */
  resumed(p: LibraryProc): void {
    p.readOnly.take();
  }

  /** Whether it changed anything under a read-only mount; the change is undone and recorded. */
  private wroteReadOnly(p: LibraryProc): boolean {
    const file = p.readOnly.violation();
    if (file === undefined) return false;
    p.record.readOnlyWrite ??= file;
    p.record.stderr += `${file}: Read-only file system\n`;
    return true;
  }

  /** Set by the simulation: called after a process ended, to move the world on. */
  onExit: () => void = () => undefined;
}

/** A claim's directory: one per claim, shared by the pods of every Job and run. */
function claimDir(tmp: string, namespace: string, claim: string): string {
  return path.join(tmp, 'claims', namespace, claim);
}

/**
 * The Job controller gives every container of an Indexed Job's pod JOB_COMPLETION_INDEX from
 * the pod's annotation (pkg/controller/job/indexed_job_utils.go, addCompletionIndexEnvVariables).
 */
function withCompletionIndexEnv(spec: any, indexed: boolean): any {
  if (!indexed) return spec;
  const add = (c: any) => ((c.env ?? []).some((e: any) => e.name === 'JOB_COMPLETION_INDEX') ? c
    : { ...c, env: [...(c.env ?? []), { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } }] });
  return { ...spec, initContainers: spec.initContainers?.map(add), containers: (spec.containers ?? []).map(add) };
}

/** A modelled pod's volumes for writing its files: only claims and emptyDirs matter (user Secrets may not exist here). */
function withoutKeyVolumes(spec: any): any {
  return { ...spec, volumes: (spec.volumes ?? []).map((v: any) => (v.persistentVolumeClaim || v.emptyDir ? v : { name: v.name, emptyDir: {} })) };
}

function signal(p: LibraryProc): void {
  try {
    if (p.child?.pid) process.kill(-p.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
