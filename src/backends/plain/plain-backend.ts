import { ApiObject, Duration, Lazy } from 'cdk8s';
import type { IPipelineBackend } from '../../model/backend';
import type { GraphProblem, PipelineGraph } from '../../model/graph';
import { wholeSecondsProblem } from '../../model/durations';
import { MAX_NAME_LENGTH } from '../../model/names';
import type { Pipeline } from '../../model/pipeline';
import type { Step } from '../../model/step';
import { WorkspaceAccess } from '../../model/workspace';
import { Coordinator } from './coordinator';
import { lazilyNamedObject } from './lazy-named';
import { DEPENDS_ON_ANNOTATION, EXTERNAL_REFS_ANNOTATION, STEP_LABEL } from '../../conventions';
import { planPipeline, PlannedStep, stepJobName } from './plan';

/** The image the coordinator runs on unless told otherwise: bash, jq and kubectl, published by Kubernetes. */
export const DEFAULT_COORDINATOR_IMAGE = 'registry.k8s.io/kubectl:v1.28.15';

/** The shortest TTL that outlives a coordinator restart, whatever the poll interval. */
const MIN_TTL_SECONDS = 60;
const MIN_TTL_POLLS = 12;

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
  private readonly coordinatorImage: string;
  private readonly pollInterval: Duration;
  private pipeline?: Pipeline;
  private coordinator?: Coordinator;
  private workspace?: ApiObject;
  private readonly stepJobs: ApiObject[] = [];
  private planCache?: { graph: PipelineGraph; steps: Map<Step, PlannedStep>; order: PlannedStep[] };

  public constructor(props: PlainBackendProps = {}) {
    this.coordinatorImage = props.coordinatorImage ?? DEFAULT_COORDINATOR_IMAGE;
    this.pollInterval = props.pollInterval ?? Duration.seconds(5);
    const pollProblem = wholeSecondsProblem('pollInterval', this.pollInterval);
    if (pollProblem) throw new Error(`PlainBackend: ${pollProblem}`);
  }

  public bind(pipeline: Pipeline): void {
    if (this.pipeline) {
      throw new Error(`[${pipeline.node.path}] this PlainBackend is already used by pipeline '${this.pipeline.node.path}'; create one backend per pipeline`);
    }
    this.pipeline = pipeline;
    this.coordinator = new Coordinator(pipeline, 'Coordinator', {
      image: this.coordinatorImage,
      pollInterval: this.pollInterval,
      plan: () => this.plan().order,
    });
  }

  public addStep(step: Step): void {
    const job = lazilyNamedObject(step, 'Resource', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { labels: { [STEP_LABEL]: step.stepName, 'app.kubernetes.io/component': 'step' } },
      spec: Lazy.any({ produce: () => this.planned(step).jobSpec }),
    }, () => this.planned(step).jobName);
    job.metadata.addAnnotation(DEPENDS_ON_ANNOTATION, Lazy.any({ produce: () => this.planned(step).dependsOn.join(',') || undefined }));
    job.metadata.addAnnotation(EXTERNAL_REFS_ANNOTATION, Lazy.any({ produce: () => this.externalRefs(step) }));
    // The coordinator must be created after every step Job it releases, and the
    // workspace claim before any pod that mounts it.
    this.coordinator!.job.addDependency(job);
    if (this.workspace) job.addDependency(this.workspace);
    this.stepJobs.push(job);
  }

  public addArtifact(): void {
    this.declareWorkspace();
  }

  public validate(graph: PipelineGraph): GraphProblem[] {
    const problems: GraphProblem[] = [];
    const pipelineName = this.pipeline!.pipelineName;
    for (const step of graph.steps) {
      const example = stepJobName(pipelineName, step.stepName, '12345678');
      if (example.length > MAX_NAME_LENGTH) {
        problems.push({
          construct: step,
          message: `the Job name '${example}' derived from pipeline '${pipelineName}' and step '${step.stepName}' has `
            + `${example.length} characters, more than ${MAX_NAME_LENGTH}; shorten the pipeline or step id by ${example.length - MAX_NAME_LENGTH}`,
        });
      }
    }
    const ttl = this.pipeline!.ttlAfterFinished?.toSeconds();
    const minTtl = Math.max(MIN_TTL_SECONDS, MIN_TTL_POLLS * this.pollInterval.toSeconds());
    if (ttl !== undefined && ttl < minTtl) {
      problems.push({
        construct: this.pipeline!,
        message: `'ttlAfterFinished' is ${ttl}s, shorter than ${minTtl}s: a step Job deleted before the coordinator `
          + 'has seen it complete leaves its downstream steps waiting until the run deadline; set it to at least '
          + `${minTtl}s (${MIN_TTL_POLLS} poll intervals, covering a coordinator restart)`,
      });
    }
    const coordinatorName = `${pipelineName}-coordinator-12345678`;
    if (coordinatorName.length > MAX_NAME_LENGTH) {
      problems.push({
        construct: this.pipeline!,
        message: `the coordinator Job name '${coordinatorName}' has ${coordinatorName.length} characters, more than ${MAX_NAME_LENGTH}; `
          + `shorten the pipeline id by ${coordinatorName.length - MAX_NAME_LENGTH}`,
      });
    }
    return problems;
  }

  public warnings(graph: PipelineGraph): string[] {
    const pipeline = this.pipeline!;
    const access = pipeline.workspace.access;
    if (access === WorkspaceAccess.READ_WRITE_MANY || pipeline.maxParallel === 1) return [];
    const levels = graph.levels();
    const byLevel = new Map<number, string[]>();
    for (const step of graph.steps) {
      if (Object.keys(step.inputs).length + Object.keys(step.outputs).length === 0) continue;
      const level = levels.get(step)!;
      const names = byLevel.get(level);
      if (names) names.push(step.stepName);
      else byLevel.set(level, [step.stepName]);
    }
    const parallel = [...byLevel.values()].find((names) => names.length > 1);
    if (!parallel) return [];
    const steps = parallel.map((n) => `'${n}'`).join(', ');
    const fix = 'Use Workspace.claim({ access: WorkspaceAccess.READ_WRITE_MANY }) with an RWX storage class, '
      + 'or maxParallel: 1, if they must overlap';
    return [access === WorkspaceAccess.READ_WRITE_ONCE_POD
      ? `steps ${steps} may run at the same time but share a ReadWriteOncePod workspace: only one pod can mount it, `
        + `so they run one after another. ${fix}`
      : `steps ${steps} may run at the same time and share a ReadWriteOnce workspace: pods on other nodes wait `
        + `(Multi-Attach) until the volume is free. ${fix} across nodes`];
  }

  private declareWorkspace(): void {
    const pipeline = this.pipeline!;
    if (this.workspace || pipeline.workspace.existingClaimName !== undefined) return;
    const ws = pipeline.workspace;
    this.workspace = new ApiObject(pipeline, 'Workspace', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: this.workspaceClaim(), labels: { 'app.kubernetes.io/component': 'workspace' } },
      spec: {
        accessModes: [ws.access],
        storageClassName: ws.storageClassName,
        resources: { requests: { storage: ws.storageQuantity! } },
      },
    });
    for (const job of this.stepJobs) job.addDependency(this.workspace);
  }

  private workspaceClaim(): string {
    return this.pipeline!.workspace.existingClaimName ?? `${this.pipeline!.pipelineName}-workspace`;
  }

  private externalRefs(step: Step): string | undefined {
    const planned = this.planned(step);
    const refs = planned.externalSecrets.map((s) => `secret/${s}`);
    const usesWorkspace = Object.keys(step.inputs).length + Object.keys(step.outputs).length > 0;
    const claim = this.pipeline!.workspace.existingClaimName;
    if (usesWorkspace && claim !== undefined) refs.push(`persistentvolumeclaim/${claim}`);
    const sa = (planned.jobSpec.template as any).spec.serviceAccountName as string | undefined;
    if (sa) refs.push(`serviceaccount/${sa}`);
    return refs.length > 0 ? refs.join(',') : undefined;
  }

  private planned(step: Step): PlannedStep {
    return this.plan().steps.get(step)!;
  }

  private plan(): { steps: Map<Step, PlannedStep>; order: PlannedStep[] } {
    const graph = this.pipeline!.graph;
    if (this.planCache?.graph !== graph) {
      const order = planPipeline(this.pipeline!, graph, { utilityImage: this.coordinatorImage, workspaceClaim: this.workspaceClaim() });
      this.planCache = { graph, order, steps: new Map(order.map((p) => [p.step, p])) };
    }
    return this.planCache;
  }
}
