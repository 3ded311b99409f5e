import { Chart, Duration } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { MANAGED_BY_LABEL, MANAGED_BY_LIBRARY } from '../library-containers';
import type { EnvVarValue, NamedReference, StepResources, Toleration } from './plus-values';
import { createDefaultBackend, IPipelineBackend } from './backend';
import type { PipelineDiagram } from './diagram';
import { toDot, toMermaid } from './diagram-text';
import { checkControlFlow } from './control-flow-checks';
import { checkValues } from './value-checks';
import { GraphProblem, PipelineGraph } from './graph';
import { deadlineWarnings } from './deadline-warnings';
import { wholeSecondsProblem } from './durations';
import { dnsLabelProblem, labelProblem, reservedLabelPrefix } from './names';
import { diagramOfPipeline } from './pipeline-diagram';
import { PipelineRuns, RunOptions, ScheduleProps } from './schedule';
import { isWholeNumberIn, shown } from './values';
import type { Step } from './step';
import { removeStaleOutput } from './stale-output';
import { Workspace } from './workspace';

/** Settings every step of a pipeline inherits unless it sets its own. */
export interface StepDefaults {
  /**
   * Container image of steps that name none.
   * @default - none; every step must then set `image`
   */
  readonly image?: string;
  /**
   * Requests and limits of steps that set none.
   * @default - cpu 500m request / 1 limit, memory 512Mi request / 1Gi limit: every pod
   * gets requests and limits, as quota-enforcing namespaces require
   */
  readonly resources?: StepResources;
  /**
   * Environment added to every step; a step's own variable of the same name wins.
   * @default - none
   */
  readonly env?: Record<string, EnvVarValue>;
  /**
   * Node selector of every step; merged under the step's own.
   * @default - none
   */
  readonly nodeSelector?: Record<string, string>;
  /**
   * Tolerations added to every step's own.
   * @default - none
   */
  readonly tolerations?: Toleration[];
  /**
   * Service account of steps that name none. The token is still not mounted unless the
   * step sets `automountServiceAccountToken`.
   * @default - the namespace's default service account, without a token
   */
  readonly serviceAccount?: NamedReference;
  /**
   * Secrets holding registry credentials, for private images; merged with the step's own.
   * @default - none: images are pulled with the namespace default service account's credentials
   */
  readonly imagePullSecrets?: NamedReference[];
  /**
   * Retries of steps that set none.
   * @default 0 - a failed pod fails the step; evictions and preemptions never count
   */
  readonly retries?: number;
}

/** Props of a `Pipeline`. */
export interface PipelineProps {
  /**
   * Namespace of every object. Written into each object so the RoleBinding's subject and
   * the objects agree; `kubectl apply -n` cannot change it.
   * @default 'default'
   */
  readonly namespace?: string;
  /**
   * Extra labels on every object and every step's pods (e.g. team or cost center).
   * @default - only the app.kubernetes.io/* and mlops.cdk8s.io/* labels
   */
  readonly labels?: Record<string, string>;
  /**
   * Forces a fresh run: it is part of every step's hash, so each run id yields new Jobs.
   * @default - none: an unchanged pipeline re-applies as a no-op and only changed steps
   * (and their downstream) run again
   */
  readonly runId?: string;
  /**
   * Where artifacts live. Only mounted into steps that read or write artifacts.
   * @default Workspace.claim() - a 10Gi ReadWriteOnce claim named `<pipeline>-workspace`
   */
  readonly workspace?: Workspace;
  /**
   * Settings every step inherits.
   * @default - none
   */
  readonly defaults?: StepDefaults;
  /**
   * How many steps may run at the same time.
   * @default - no cap: every step whose upstream completed starts at once
   */
  readonly maxParallel?: number;
  /**
   * Deadline of the whole run, counted from the moment the coordinator is created.
   * Running steps are stopped and waiting ones marked when it passes.
   * @default Duration.hours(24)
   */
  readonly runDeadline?: Duration;
  /**
   * Delete finished Jobs (and their pods) this long after they finish.
   * @default - never: Jobs stay for inspection until the next run replaces them
   */
  readonly ttlAfterFinished?: Duration;
  /**
   * Runs the pipeline on a schedule (a CronJob), each run with its own id, Jobs and artifact
   * folders; any run can also be started by hand (docs/schedules.md). `kubectl apply` then
   * starts no run by itself.
   * @default - no schedule: the pipeline runs once per apply of changed YAML
   */
  readonly schedule?: ScheduleProps;
  /**
   * Runs the pipeline only on demand, `kubectl create job --from=cronjob/<pipeline> <run>`,
   * each run with its own id, Jobs and artifact folders (docs/schedules.md). Grants the
   * coordinator `create` on Jobs, which is why it is not the default.
   * @default - the pipeline runs once per apply of changed YAML
   */
  readonly onDemand?: RunOptions;
  /**
   * What turns the pipeline into Kubernetes objects.
   * @default - the plain backend: core API objects only, no operator or CRD
   */
  readonly backend?: IPipelineBackend;
}

/**
 * A machine-learning pipeline: steps ordered by the artifacts they exchange, synthesized
 * as one cdk8s chart.
 *
 * @example
 * const pipeline = new Pipeline(app, 'churn', { namespace: 'ml' });
 * const ingest = new ContainerStep(pipeline, 'ingest', { image, outputs: { raw: Dataset } });
 * new ContainerStep(pipeline, 'train', { image, inputs: { raw: ingest.outputs.raw } });
 */
export class Pipeline extends Chart {
  /** Whether `x` is a pipeline, also across duplicate copies of this library. */
  public static isPipeline(x: unknown): x is Pipeline {
    return x !== null && typeof x === 'object' && PIPELINE_SYMBOL in x;
  }

  /** The pipeline `construct` belongs to; throws when it is outside any pipeline. */
  public static of(construct: IConstruct): Pipeline {
    for (const scope of [...construct.node.scopes].reverse()) {
      if (scope !== construct && Pipeline.isPipeline(scope)) return scope;
    }
    throw new Error(`[${construct.node.path}] a step must be defined inside a Pipeline; `
      + 'pass the pipeline (or a construct inside it) as the scope');
  }

  /** The pipeline's name: its construct id. Every object name starts with it. */
  public readonly pipelineName: string;
  /** Namespace of every object (props.namespace, else 'default'). */
  public readonly namespace: string;
  /** The extra labels given in props, which step pods carry too. */
  public readonly extraLabels: Record<string, string>;
  /** The run id that forces fresh Jobs, if any. */
  public readonly runId?: string;
  /** Where artifacts live. */
  public readonly workspace: Workspace;
  /** What steps inherit. */
  public readonly defaults: StepDefaults;
  /** Cap on steps running at once; undefined when uncapped. */
  public readonly maxParallel?: number;
  /** Deadline of the whole run. */
  public readonly runDeadline: Duration;
  /** How long finished Jobs are kept; undefined to keep them. */
  public readonly ttlAfterFinished?: Duration;
  /** How runs repeat (from `schedule` or `onDemand`); undefined for a pipeline run once per apply. */
  public readonly runs?: PipelineRuns;
  /** What renders this pipeline. */
  public readonly backend: IPipelineBackend;

  private readonly stepList: Step[] = [];
  private readonly exitHandlerSet = new Set<Step>();
  private readonly reusedSteps = new Set<Step>();
  private graphCache?: PipelineGraph;
  private problemCache?: GraphProblem[];
  private warningsPrinted = false;

  public constructor(scope: Construct, id: string, props: PipelineProps = {}) {
    const namespace = props.namespace ?? 'default';
    super(scope, id, {
      namespace,
      labels: {
        'app.kubernetes.io/part-of': id,
        [MANAGED_BY_LABEL]: MANAGED_BY_LIBRARY,
        'mlops.cdk8s.io/pipeline': id,
        ...props.labels,
      },
    });
    Object.defineProperty(this, PIPELINE_SYMBOL, { value: true });
    const fail = (message: string): never => {
      throw new Error(`[${this.node.path}] ${message}`);
    };
    const nameProblem = dnsLabelProblem(id);
    if (nameProblem) fail(`pipeline id '${id}' is not a valid name: ${nameProblem}`);
    const nsProblem = dnsLabelProblem(namespace);
    if (nsProblem) fail(`namespace '${namespace}' is not a valid name: ${nsProblem}`);
    if (props.runId !== undefined && dnsLabelProblem(props.runId)) {
      fail(`runId '${props.runId}' is not a valid label value: ${dnsLabelProblem(props.runId)}`);
    }
    for (const [key, value] of Object.entries(props.labels ?? {})) {
      const problem = labelProblem(key, value);
      if (problem) fail(problem);
      if (RESERVED_LABELS.some((r) => key === r || (r.endsWith('/') && key.startsWith(r)))) {
        fail(`label '${key}' is set by cdk8s-mlops (the coordinator finds its Jobs by it); choose another key`);
      }
      const kubernetesPrefix = reservedLabelPrefix(key);
      if (kubernetesPrefix) {
        fail(`label '${key}' uses the prefix '${kubernetesPrefix}', which Kubernetes reserves for its own components `
          + '(the Job controller sets batch.kubernetes.io/ labels on every pod); use a prefix of your own, e.g. example.com/');
      }
    }
    if (props.maxParallel !== undefined && !isWholeNumberIn(props.maxParallel, 1, MAX_PARALLEL)) {
      fail(`'maxParallel' must be a whole number from 1 to ${MAX_PARALLEL}, got ${shown(props.maxParallel)}`);
    }
    this.pipelineName = id;
    this.namespace = namespace;
    this.extraLabels = { ...props.labels };
    this.runId = props.runId;
    this.workspace = props.workspace ?? Workspace.claim();
    for (const problem of this.workspace.problems()) fail(problem);
    this.defaults = props.defaults ?? {};
    this.maxParallel = props.maxParallel;
    this.runDeadline = props.runDeadline ?? Duration.hours(24);
    const deadlineProblem = wholeSecondsProblem('runDeadline', this.runDeadline);
    if (deadlineProblem) fail(deadlineProblem);
    this.ttlAfterFinished = props.ttlAfterFinished;
    const ttlProblem = this.ttlAfterFinished && wholeSecondsProblem('ttlAfterFinished', this.ttlAfterFinished);
    if (ttlProblem) fail(ttlProblem);
    this.runs = PipelineRuns.resolve(props.schedule, props.onDemand, fail);
    if (this.runs && props.runId !== undefined) {
      fail(`'runId' '${props.runId}' does nothing for a pipeline with ${props.schedule ? '\'schedule\'' : '\'onDemand\''}: every run gets its own id; remove runId`);
    }
    this.backend = props.backend ?? createDefaultBackend();
    this.backend.bind(this);
    this.node.addValidation({
      validate: () => {
        const pipelines = this.node.root.node.findAll().filter(Pipeline.isPipeline);
        removeStaleOutput(this, new Set(pipelines.map((p) => p.pipelineName)));
        this.printWarnings();
        return this._problemsOf(this);
      },
    });
  }

  /** The steps, in the order they were added. */
  public get steps(): readonly Step[] {
    return this.stepList;
  }

  /**
   * Run `handlers` once every other step has finished, whatever happened: they are released
   * after the last step completes, fails or is skipped, and learn the run's outcome from
   * `MLOPS_RUN_STATUS` (`succeeded`, `failed`, `rejected`) and `MLOPS_RUN_FAILURES` (a JSON
   * list of `{step, reason}`). Their own outcome does not change the run's, except that a
   * failed handler fails a run that had succeeded. Like Argo's `onExit` and KFP's `ExitHandler`.
   *
   * A handler takes no inputs or `after()`, and no step may wait for it.
   */
  public onExit(...handlers: Step[]): void {
    for (const handler of handlers) {
      if (handler?.pipeline !== this) {
        throw new Error(`[${this.node.path}] onExit() takes steps of this pipeline, got ${handler?.node?.path ?? String(handler)}`);
      }
      this.exitHandlerSet.add(handler);
    }
    this._touch();
  }

  /** The steps that run after everything else (`onExit`), in the order they were added. */
  public get exitHandlers(): readonly Step[] {
    return this.stepList.filter((s) => this.exitHandlerSet.has(s));
  }

  /** Whether `step` is one of this pipeline's exit handlers. */
  public isExitHandler(step: Step): boolean {
    return this.exitHandlerSet.has(step);
  }

  /** The dependency graph as it stands now. */
  public get graph(): PipelineGraph {
    this.graphCache ??= new PipelineGraph(this, this.stepList);
    return this.graphCache;
  }

  /** Trade-offs of this pipeline's settings worth knowing before it runs. */
  public get warnings(): string[] {
    if (this.graph.problems.length > 0) return [];
    return [...(this.runs?.warnings ?? []), ...deadlineWarnings(this.runDeadline, this.stepList), ...this.backend.warnings(this.graph)];
  }

  /**
   * Lets runs reuse these steps' Jobs and outputs while the steps are unchanged (content-hash
   * caching across runs), instead of running them again in every run. Only for a pipeline
   * with `schedule` or `onDemand`; each step's upstream steps must be reused too, since
   * a reused step cannot read one run's files.
   */
  public reuseAcrossRuns(...steps: Step[]): void {
    for (const step of steps) {
      if (Pipeline.of(step) !== this) throw new Error(`[${this.node.path}] step '${step.node.path}' belongs to another pipeline; reuse only this pipeline's steps`);
      if (!this.runs) {
        throw new Error(`[${this.node.path}] reuseAcrossRuns() needs runs to reuse across; set 'schedule' or 'onDemand' on the pipeline`);
      }
      this.reusedSteps.add(step);
    }
    this._touch();
  }

  /** Whether runs reuse `step` across runs (see `reuseAcrossRuns`). */
  public isReusedAcrossRuns(step: Step): boolean {
    return this.reusedSteps.has(step);
  }

  /**
   * A picture of the pipeline before it runs: every step with its image, resources and
   * GPUs, the parallel levels, the critical path, `maxParallel` and the warnings. Built from
   * the model alone (no Kubernetes object), so it is the same whatever the backend.
   * Throws when the pipeline cannot be drawn (a cycle, no steps).
   */
  public toDiagram(): PipelineDiagram {
    return diagramOfPipeline(this);
  }

  /**
   * The pipeline as a Mermaid flowchart (left to right, critical path drawn thick): paste
   * it into a ```mermaid block of a pull request or a README.
   */
  public toMermaid(): string {
    return toMermaid(this.toDiagram());
  }

  /** The pipeline as a Graphviz digraph, one rank per parallel level: `dot -Tsvg` draws it. */
  public toDot(): string {
    return toDot(this.toDiagram());
  }

  /** @internal called by `Step`'s constructor */
  public _registerStep(step: Step): void {
    const kind = step.kind;
    if (!this.backend.kinds.some((k) => k.name === kind.name)) {
      throw new Error(`[${step.node.path}] ${this.backend.displayName} cannot render ${kind.description} (node kind '${kind.name}'); `
        + `it renders ${this.backend.kinds.map((k) => `'${k.name}'`).join(', ')}: use a backend that renders '${kind.name}' nodes, `
        + 'or another kind of step');
    }
    this.stepList.push(step);
    this._touch();
    this.backend.addStep(step);
  }

  /**
   * @internal called by the `Step` and `BatchStep` bases whenever wiring or a spec changes,
   * never by subclasses: they change a step only through the bases' methods.
   */
  public _touch(): void {
    this.graphCache = undefined;
    this.problemCache = undefined;
  }

  /**
   * @internal the problems found at synthesis that concern `construct`; each step
   * reports its own so that cdk8s prefixes every message with the right construct path.
   */
  public _problemsOf(construct: IConstruct): string[] {
    return this.synthProblems().filter((p) => p.construct === construct).map((p) => p.message);
  }

  private synthProblems(): GraphProblem[] {
    if (this.problemCache) return this.problemCache;
    const graph = this.graph;
    const problems: GraphProblem[] = [...graph.problems];
    if (this.stepList.length === 0) {
      problems.push({
        construct: this,
        message: 'pipeline has no steps; add one, e.g. new ContainerStep(pipeline, \'train\', { image })',
      });
    }
    const twin = this.twin();
    if (twin) {
      problems.push({
        construct: this,
        message: `pipeline '${this.pipelineName}' in namespace '${this.namespace}' is also defined at ${twin.node.path}: `
          + 'their Jobs, Role and claim would have the same names and overwrite each other; give one of them another id or namespace',
      });
    }
    for (const step of this.stepList) {
      for (const message of step.validateSpec()) problems.push({ construct: step, message });
    }
    problems.push(...checkControlFlow(this, graph));
    if (graph.problems.length === 0) problems.push(...checkValues(graph));
    if (problems.length === 0) {
      for (const step of this.reusedSteps) {
        const perRun = graph.upstream(step).filter((u) => !this.reusedSteps.has(u)).map((u) => u.stepName);
        if (perRun.length === 0) continue;
        problems.push({
          construct: step,
          message: `step '${step.stepName}' is reused across runs but its upstream ${perRun.map((n) => `'${n}'`).join(', ')} `
            + `runs in every run, so its input changes from run to run; pass ${perRun.join(', ')} to reuseAcrossRuns() too, or do not reuse '${step.stepName}'`,
        });
      }
    }
    // Derived names and the like only make sense for a sound graph.
    if (problems.length === 0) problems.push(...this.backend.validate(graph));
    this.problemCache = problems;
    return problems;
  }

  /** The first pipeline of the app with this one's name and namespace, when that is another one. */
  private twin(): Pipeline | undefined {
    const same = this.node.root.node.findAll().filter((c): c is Pipeline => Pipeline.isPipeline(c)
      && c.pipelineName === this.pipelineName && c.namespace === this.namespace);
    return same[0] === this ? undefined : same[0];
  }

  private printWarnings(): void {
    if (this.warningsPrinted || this.synthProblems().length > 0) return;
    this.warningsPrinted = true;
    for (const warning of this.warnings) process.stderr.write(`[${this.node.path}] warning: ${warning}\n`);
  }
}

const PIPELINE_SYMBOL = Symbol.for('cdk8s-mlops.Pipeline');

/** More steps at once than any cluster runs for one pipeline; the cap goes into an env var. */
const MAX_PARALLEL = 10_000;

/** Label keys the library owns; a user value would hide the pipeline's Jobs from its coordinator. */
const RESERVED_LABELS = ['mlops.cdk8s.io/', 'app.kubernetes.io/part-of', MANAGED_BY_LABEL, 'app.kubernetes.io/component'];
