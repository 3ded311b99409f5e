import type { EnvVarValue } from './plus-values';
import type { Construct } from 'constructs';
import type { StepSpec } from './container-spec';
import { NodeKind } from './node-kind';
import { defaultPullPolicy } from './pull-policy';
import { resolveResources } from './resources';
import { checkStepSpec } from './spec-checks';
import { Step } from './step';
import type { StepOptions } from './step-options';

/**
 * A step that runs a container to completion: the base of `ContainerStep` and of every
 * typed step.
 *
 * Defaults are resolved here and nowhere else: the step's options, then the pipeline's
 * `defaults`, then the library's. A typed step passes its own defaults first and the user's
 * props after them (`super(scope, id, { image: ..., ...props })`), as cdk8s-plus's `Job`
 * does, and adds its domain env with `addEnv`.
 */
export abstract class BatchStep extends Step {
  /** Whether `step` is a batch step (by kind, so also across duplicate copies of this library). */
  public static isBatchStep(step: Step): step is BatchStep {
    return step.kind.name === NodeKind.BATCH.name;
  }

  private readonly options: StepOptions;
  private readonly extraEnv: Record<string, EnvVarValue> = {};
  private readonly libraryEnv: Record<string, EnvVarValue> = {};
  private libraryScript?: { readonly name: string; readonly image: string };

  protected constructor(scope: Construct, id: string, options: StepOptions = {}) {
    super(scope, id);
    this.options = options;
    if (options.after) this.after(...options.after);
    if (options.trigger !== undefined) this.setTriggerRule(options.trigger);
    for (const [alias, value] of Object.entries(options.inputValues ?? {})) this.addInputValue(alias, value);
    if (options.when !== undefined) this.setCondition(options.when);
    if (options.volumes?.some((v) => v.volume.source.kind === 'workspace')) this.pipeline.backend.useWorkspace(this);
  }

  public get kind(): NodeKind {
    return NodeKind.BATCH;
  }

  /** Add (or override) an environment variable after construction. */
  public addEnv(name: string, value: EnvVarValue): void {
    this.extraEnv[name] = value;
    this.pipeline._touch();
  }

  /**
   * Set a variable that the step itself defines (`MLOPS_HP_*`, `MLOPS_SPLIT_*`...): it may
   * use the `MLOPS_` prefix that user env may not, and the user's env cannot replace it.
   */
  protected addLibraryEnv(name: string, value: EnvVarValue): void {
    this.libraryEnv[name] = value;
    this.pipeline._touch();
  }

  /**
   * Run the library's script `assets/<name>` (bash and jq) instead of a user image: the
   * backend delivers the script and picks the image.
   */
  protected runLibraryScript(name: string): void {
    const backend = this.pipeline.backend;
    if (!backend.useLibraryScript) {
      throw new Error(`[${this.node.path}] ${backend.displayName} cannot run the library's scripts, which this step needs; use the plain backend`);
    }
    this.libraryScript = { name, image: backend.useLibraryScript(this, name) };
    this.pipeline._touch();
  }

  /**
   * The container and wiring a backend renders, with the pipeline's defaults applied.
   *
   * Called at synthesis, after all user code ran, so later `addEnv()`-style calls count.
   */
  public spec(): StepSpec {
    const defaults = this.pipeline.defaults;
    const p = this.options;
    const image = this.libraryScript?.image ?? p.image ?? defaults.image ?? '';
    return {
      image,
      imagePullPolicy: p.imagePullPolicy ?? defaultPullPolicy(image),
      containerName: p.containerName ?? 'main',
      command: p.command,
      args: p.args,
      env: { ...defaults.env, ...p.env, ...this.extraEnv },
      libraryEnv: { ...this.libraryEnv },
      secretVolumes: p.secretVolumes ?? [],
      volumes: p.volumes ?? [],
      mlopsEnv: p.mlopsEnv ?? true,
      resources: resolveResources(p.resources, defaults.resources),
      gpu: p.gpu,
      nodeSelector: { ...defaults.nodeSelector, ...p.nodeSelector },
      tolerations: [...(defaults.tolerations ?? []), ...(p.tolerations ?? [])],
      retries: p.retries ?? defaults.retries ?? 0,
      timeout: p.timeout,
      fanOut: p.fanOut ?? 1,
      fanOutParallelism: p.fanOutParallelism ?? p.fanOut ?? 1,
      serviceAccount: p.serviceAccount ?? defaults.serviceAccount,
      imagePullSecrets: [...(defaults.imagePullSecrets ?? []), ...(p.imagePullSecrets ?? [])],
      automountServiceAccountToken: p.automountServiceAccountToken ?? false,
      security: {
        user: p.security?.user ?? 1000,
        group: p.security?.group ?? 1000,
        runAsNonRoot: p.security?.runAsNonRoot ?? true,
        readOnlyRootFilesystem: p.security?.readOnlyRootFilesystem ?? true,
      },
      libraryScript: this.libraryScript?.name,
      inputs: this.inputs,
      outputs: this.outputs,
      values: this.values,
      inputValues: this.inputValues,
    };
  }

  /** Everything Kubernetes would refuse in the resolved spec; subclasses add their own checks. */
  public override validateSpec(): string[] {
    return checkStepSpec(this.spec());
  }
}
