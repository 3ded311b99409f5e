import { ApiObject, Duration, Lazy } from 'cdk8s';
import { DEPENDS_ON_ANNOTATION, EXTERNAL_REFS_ANNOTATION, STEP_LABEL } from '../../conventions';
import type { IPipelineBackend } from '../../model/backend';
import { NodeKind } from '../../model/node-kind';
import { wholeSecondsProblem } from '../../model/durations';
import type { GraphProblem, PipelineGraph } from '../../model/graph';
import type { Pipeline } from '../../model/pipeline';
import { imageReferenceProblem, shortHash } from '../../model/names';
import type { Step } from '../../model/step';
import { asset } from '../../assets';
import type { StepValue } from '../../model/step-value';
import { gateScript, pruneRunsScript, valuesReporterScript } from './assets';
import { Coordinator } from './coordinator';
import { renderGateJobSpec } from './gate-job';
import { Reporter, reporterAccountName } from './reporter';
import { valuesReporterProblems } from './values-reporter';
import { lazilyNamedObject } from './lazy-named';
import { checkPlainLimits } from './limits';
import { planPipeline, PlannedStep, stepJobName } from './plan';
import { declarePruneRbac, pruneJobSpec, PRUNE_STEP } from './prune-runs';
import { planLines, RUN_HASH_PLACEHOLDER, RunNode, runNode, runTemplates, runTemplatesProblem } from './scheduled-run';
import { declareWorkspaceClaim, workspaceClaimName, workspaceWarnings } from './workspace-claim';

/** The image the coordinator runs on unless told otherwise: bash, jq and kubectl, published by Kubernetes. */
export const DEFAULT_COORDINATOR_IMAGE = 'registry.k8s.io/kubectl:v1.28.15';

/** Props of the plain backend. */
export interface PlainBackendProps {
  /**
   * Image of the coordinator and of the small init container that creates output
   * directories. Needs bash, jq, coreutils and kubectl; pin a digest or mirror it for
   * air-gapped clusters.
   * @default 'registry.k8s.io/kubectl:v1.28.15' - the last 1.28 patch: within kubectl's
   * one-minor version skew of Kubernetes 1.27 to 1.29
   */
  readonly coordinatorImage?: string;
  /**
   * How often the coordinator lists the pipeline's Jobs (one API call each time).
   * @default Duration.seconds(5)
   */
  readonly pollInterval?: Duration;
}

/**
 * Renders a pipeline as core Kubernetes objects only: a suspended Job per step, a
 * coordinator Job that releases them in dependency order, its RBAC, and the workspace claim.
 * Nothing needs to be installed in the cluster.
 */
export class PlainBackend implements IPipelineBackend {
  public readonly displayName = 'the plain backend';
  public readonly kinds: readonly NodeKind[] = [NodeKind.BATCH, NodeKind.GATE];
  private readonly coordinatorImage: string;
  private readonly pollInterval: Duration;
  private pipeline?: Pipeline;
  private coordinator?: Coordinator;
  private workspace?: ApiObject;
  private readonly stepJobs: ApiObject[] = [];
  private reporterConstruct?: Reporter;
  private gateScriptMap?: ApiObject;
  private valuesScriptMap?: ApiObject;
  private pruneScriptMap?: ApiObject;
  private readonly jobOf = new Map<Step, ApiObject>();
  /** The ConfigMap of each library script a step runs, by script name. */
  private readonly libraryScripts = new Map<string, ApiObject>();
  private planCache?: { graph: PipelineGraph; steps: Map<Step, PlannedStep>; order: PlannedStep[] };

  public constructor(props: PlainBackendProps = {}) {
    this.coordinatorImage = props.coordinatorImage ?? DEFAULT_COORDINATOR_IMAGE;
    this.pollInterval = props.pollInterval ?? Duration.seconds(5);
  }

  public bind(pipeline: Pipeline): void {
    const fail = (message: string): never => {
      throw new Error(`[${pipeline.node.path}] ${message}`);
    };
    if (this.pipeline) fail(`this PlainBackend is already used by pipeline '${this.pipeline.node.path}'; create one backend per pipeline`);
    const pollProblem = wholeSecondsProblem('pollInterval', this.pollInterval);
    if (pollProblem) fail(`PlainBackend: ${pollProblem}`);
    // It runs the coordinator and every step's init container: a bad one stops the whole run.
    const imageProblem = imageReferenceProblem(this.coordinatorImage);
    if (imageProblem) fail(`PlainBackend 'coordinatorImage': ${imageProblem}`);
    this.pipeline = pipeline;
    this.coordinator = new Coordinator(pipeline, 'Coordinator', {
      image: this.coordinatorImage,
      pollInterval: this.pollInterval,
      plan: () => this.plan().order,
      runTemplates: pipeline.runs ? () => this.runTemplates() : undefined,
      planTail: pipeline.runs ? () => planLines(this.addedRunNodes()) : undefined,
      runGrants: pipeline.runs ? () => this.plan().order.some(reportsOnItsJob) : undefined,
    });
    if (pipeline.runs?.keepArtifactsOfRuns !== undefined) {
      declarePruneRbac(this.coordinator, pipeline);
      // The run creates the prune Job from its template: the script must exist before the CronJob fires.
      this.pruneScriptMap = scriptConfigMap(pipeline, 'PruneScript', PRUNE_STEP, 'prune-runs.sh', pruneRunsScript());
      this.coordinator.job.addDependency(this.pruneScriptMap);
      this.declareWorkspace();
    }
  }

  public addStep(step: Step): void {
    const gate = step.kind.name === NodeKind.GATE.name;
    // What gates share is made with the first one, before synthesis starts.
    if (gate) {
      this.reporter();
      this.gateScript();
    }
    // Each run creates its own step Jobs from the coordinator's templates: none in the YAML.
    if (this.pipeline!.runs) return;
    const job = lazilyNamedObject(step, 'Resource', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { labels: { [STEP_LABEL]: step.stepName, 'app.kubernetes.io/component': gate ? 'gate' : 'step' } },
      spec: Lazy.any({ produce: () => this.planned(step).jobSpec }),
    }, () => this.planned(step).jobName);
    job.metadata.addAnnotation(DEPENDS_ON_ANNOTATION, Lazy.any({ produce: () => this.planned(step).dependsOn.join(',') || undefined }));
    job.metadata.addAnnotation(EXTERNAL_REFS_ANNOTATION, Lazy.any({ produce: () => this.planned(step).externalRefs.join(',') || undefined }));
    // The coordinator must be created after every step Job it releases, and the
    // workspace claim before any pod that mounts it.
    this.coordinator!.job.addDependency(job);
    if (this.workspace) job.addDependency(this.workspace);
    if (gate) job.addDependency(this.gateScript());
    this.stepJobs.push(job);
    this.jobOf.set(step, job);
  }

  public addArtifact(): void {
    this.declareWorkspace();
  }

  public addValue(value: StepValue): void {
    // Steps of a run have no Job in the YAML: the script must still exist when the run starts.
    const script = this.valuesScript();
    this.jobOf.get(value.producer)?.addDependency(script);
  }

  public useWorkspace(): void {
    this.declareWorkspace();
  }

  /** The script goes in a ConfigMap of its own, named by its hash; the step runs it on the coordinator's image. */
  public useLibraryScript(step: Step, script: string): string {
    let configMap = this.libraryScripts.get(script);
    if (!configMap) {
      const pipeline = this.pipeline!;
      const text = asset(script);
      configMap = new ApiObject(pipeline, `LibraryScript-${script.replace(/\.sh$/, '')}`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        // Named by the script's hash: a step Job (whose hash covers this name) changes with it.
        metadata: { name: `${pipeline.pipelineName}-${script.replace(/\.sh$/, '')}-${shortHash(text)}`, labels: { 'app.kubernetes.io/component': 'library-script' } },
        data: { [script]: text },
      });
      this.libraryScripts.set(script, configMap);
    }
    // Pods of the step mount it, so it must exist first.
    this.jobOf.get(step)?.addDependency(configMap);
    return this.coordinatorImage;
  }

  public validate(graph: PipelineGraph): GraphProblem[] {
    const problems = [...checkPlainLimits(this.pipeline!, graph, this.pollInterval), ...valuesReporterProblems(graph, reporterAccountName(this.pipeline!))];
    const tooBig = this.pipeline!.runs && runTemplatesProblem(this.coordinator!.configMapBytes(), graph.steps.length);
    if (tooBig) problems.push({ construct: this.pipeline!, message: tooBig });
    return problems;
  }

  public warnings(graph: PipelineGraph): string[] {
    const warnings = workspaceWarnings(this.pipeline!, graph);
    const poll = this.pollInterval.toSeconds();
    const deadline = this.pipeline!.runDeadline.toSeconds();
    if (poll > deadline) {
      warnings.push(`'pollInterval' (${poll}s) is longer than 'runDeadline' (${deadline}s): the coordinator looks at the Jobs `
        + 'only once before the run is stopped; poll more often or raise the deadline');
    }
    return warnings;
  }

  private declareWorkspace(): void {
    const pipeline = this.pipeline!;
    if (this.workspace || pipeline.workspace.existingClaimName !== undefined) return;
    this.workspace = declareWorkspaceClaim(pipeline);
    for (const job of this.stepJobs) job.addDependency(this.workspace);
  }

  private runTemplates(): string {
    const pipeline = this.pipeline!;
    const order = this.plan().order;
    const reused = order.filter((p) => pipeline.isReusedAcrossRuns(p.step)).map(runNode);
    const perRun = order.filter((p) => !pipeline.isReusedAcrossRuns(p.step)).map(runNode);
    const grants = order.some(reportsOnItsJob) ? this.reporter().runGrants() : [];
    return runTemplates(pipeline, [...perRun, ...this.addedRunNodes()], reused, grants);
  }

  /** Nodes each run has besides the steps: the pruning of old runs' folders, after every step. */
  private addedRunNodes(): RunNode[] {
    const pipeline = this.pipeline!;
    const keep = pipeline.runs?.keepArtifactsOfRuns;
    if (keep === undefined) return [];
    const order = this.plan().order;
    const upstream = new Set(order.flatMap((p) => p.dependsOn));
    return [{
      stepName: PRUNE_STEP,
      jobName: stepJobName(pipeline.pipelineName, PRUNE_STEP, RUN_HASH_PLACEHOLDER),
      // The last steps: once they are complete, so is every step.
      dependsOn: order.map((p) => p.step.stepName).filter((name) => !upstream.has(name)).sort(),
      externalRefs: [],
      jobSpec: pruneJobSpec(pipeline, this.coordinatorImage, workspaceClaimName(pipeline), this.pruneScriptMap!.name),
    }];
  }

  private planned(step: Step): PlannedStep {
    return this.plan().steps.get(step)!;
  }

  /**
   * The identity of pods that report on their own Job, made with the first of them. Every
   * library container that patches its own Job (a gate's verdict, a step's values) uses it,
   * and names its Job in `reportsOnItsJob`: the grant follows, by name, in the YAML or per run.
   */
  private reporter(): Reporter {
    this.reporterConstruct ??= new Reporter(this.pipeline!, 'Reporter', () => this.plan().order.filter(reportsOnItsJob).map((p) => p.jobName));
    return this.reporterConstruct;
  }

  /** The ConfigMap holding the gate script, made with the first gate. */
  private gateScript(): ApiObject {
    this.reporter();
    this.gateScriptMap ??= scriptConfigMap(this.pipeline!, 'GateScript', 'gate', 'gate.sh', gateScript());
    return this.gateScriptMap;
  }

  /** The ConfigMap holding the values reporter's script, made with the first value. */
  private valuesScript(): ApiObject {
    this.reporter();
    this.valuesScriptMap ??= scriptConfigMap(this.pipeline!, 'ValuesScript', 'values', 'report-values.sh', valuesReporterScript());
    return this.valuesScriptMap;
  }

  private plan(): { steps: Map<Step, PlannedStep>; order: PlannedStep[] } {
    const graph = this.pipeline!.graph;
    if (this.planCache?.graph !== graph) {
      const pipeline = this.pipeline!;
      const order = planPipeline(pipeline, graph, {
        utilityImage: this.coordinatorImage,
        workspaceClaim: workspaceClaimName(pipeline),
        renderGate: (gate, stepDirOf) => renderGateJobSpec(gate, {
          pipelineName: pipeline.pipelineName,
          stepDirOf,
          workspaceClaim: workspaceClaimName(pipeline),
          image: this.coordinatorImage,
          scriptConfigMap: this.gateScript().name,
          reporter: this.reporter(),
          labels: pipeline.extraLabels,
        }),
        valuesReporter: () => ({ image: this.coordinatorImage, scriptConfigMap: this.valuesScript().name, reporter: this.reporter() }),
        perRun: pipeline.runs ? (step) => !pipeline.isReusedAcrossRuns(step) : undefined,
        libraryScriptConfigMap: (script) => this.libraryScripts.get(script)!.name,
      });
      this.planCache = { graph, order, steps: new Map(order.map((p) => [p.step, p])) };
    }
    return this.planCache;
  }
}

/**
 * A ConfigMap holding one library script, named by the script's hash: a Job whose hash
 * covers this name changes with the script.
 */
function scriptConfigMap(pipeline: Pipeline, id: string, component: string, key: string, script: string): ApiObject {
  return new ApiObject(pipeline, id, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${pipeline.pipelineName}-${component}-${shortHash(script)}`, labels: { 'app.kubernetes.io/component': component } },
    data: { [key]: script },
  });
}

/**
 * Whether a planned node's pod patches its own Job, and so needs the reporter's grant on it:
 * a gate writes its verdict there, a step that declares values writes them.
 */
function reportsOnItsJob(p: PlannedStep): boolean {
  return p.kind === 'gate' || p.reportsValues;
}
