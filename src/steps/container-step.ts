import type { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { Artifact, ArtifactType, OutputsOf } from '../model/artifact';
import type { SecretVolume, StepSecurity, StepSpec } from '../model/container-spec';
import type { Gpu } from '../model/gpu';
import { defaultPullPolicy, ImagePullPolicy } from '../model/pull-policy';
import type { StepVolumeMount } from '../model/step-volume';
import { Step } from '../model/step';
import type { TriggerRule } from '../model/trigger-rule';
import type { EnvVarValue, NamedReference, StepResources, Toleration } from '../model/plus-values';
import { resolveResources } from '../model/resources';

/** Props of a `ContainerStep`. */
export interface ContainerStepProps<O extends Record<string, ArtifactType> = Record<never, never>> {
  /**
   * Container image, ideally pinned by digest.
   * @default - the pipeline's `defaults.image`; synthesis fails when neither is set
   */
  readonly image?: string;
  /**
   * When the kubelet pulls the image.
   * @default - as Kubernetes picks it: 'Always' for a `:latest` tag or no tag, else 'IfNotPresent'
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * The container's name, as `kubectl logs -c` and pod status show it.
   * @default 'main'
   */
  readonly containerName?: string;
  /**
   * Entrypoint override.
   * @default - the image's ENTRYPOINT
   */
  readonly command?: string[];
  /**
   * Arguments.
   * @default - the image's CMD
   */
  readonly args?: string[];
  /**
   * Environment variables. Use cdk8s-plus's `EnvValue.fromSecretValue()` (any version) for credentials: the YAML then
   * references the Secret's key and never holds the value.
   * @default - only the pipeline's default env and the MLOPS_* artifact locations
   */
  readonly env?: Record<string, EnvVarValue>;
  /**
   * Secrets mounted as files.
   * @default - none
   */
  readonly secretVolumes?: SecretVolume[];
  /**
   * More volumes at paths of your choice: an existing claim, a ConfigMap, a size-limited
   * emptyDir, or the workspace itself (`StepVolume.workspace()`) where the image expects
   * its data. Not at `/tmp` or the workspace mount, nor below them.
   * @default - none
   */
  readonly volumes?: StepVolumeMount[];
  /**
   * Set the `MLOPS_*` variables (artifact locations, `MLOPS_PIPELINE`, `MLOPS_STEP`). Turn
   * it off for an image that must see exactly its own environment; artifacts are then
   * still mounted at their usual paths, which the step must know itself.
   * @default true
   */
  readonly mlopsEnv?: boolean;
  /**
   * CPU, memory and ephemeral-storage requests and limits.
   * @default - the pipeline's `defaults.resources`, else cpu 500m/1 and memory 512Mi/1Gi
   */
  readonly resources?: StepResources;
  /**
   * Accelerators, e.g. `Gpu.nvidia(1)`. Reserved only once the step starts, never while
   * it waits for its upstream steps.
   * @default - none
   */
  readonly gpu?: Gpu;
  /**
   * Node labels the pod must match (merged over the pipeline's defaults).
   * @default - the pipeline's `defaults.nodeSelector`
   */
  readonly nodeSelector?: Record<string, string>;
  /**
   * Tolerations, added to the pipeline's defaults (e.g. for tainted GPU nodes).
   * @default - the pipeline's `defaults.tolerations`
   */
  readonly tolerations?: Toleration[];
  /**
   * How many times a failed pod is retried before the step fails.
   * @default - the pipeline's `defaults.retries`, else 0
   */
  readonly retries?: number;
  /**
   * Limit on the step's running time (`activeDeadlineSeconds`). It starts when the step is
   * released, not while it waits.
   * @default - no limit other than the pipeline's run deadline
   */
  readonly timeout?: Duration;
  /**
   * Run this many indexed copies (an Indexed Job); each gets `JOB_COMPLETION_INDEX`.
   * @default 1
   */
  readonly fanOut?: number;
  /**
   * How many copies of a fanned-out step run at once.
   * @default - all of them
   */
  readonly fanOutParallelism?: number;
  /**
   * Service account the pod runs as.
   * @default - the pipeline's `defaults.serviceAccount`, else the namespace's default
   */
  readonly serviceAccount?: NamedReference;
  /**
   * Secrets holding registry credentials for a private image, added to the pipeline's.
   * @default - the pipeline's `defaults.imagePullSecrets`
   */
  readonly imagePullSecrets?: NamedReference[];
  /**
   * Mount the service account token, for steps that call the Kubernetes API.
   * @default false - a step cannot talk to the API server unless it asks
   */
  readonly automountServiceAccountToken?: boolean;
  /**
   * Loosen the restricted security profile for this step only.
   * @default - restricted: non-root uid 1000, no privilege escalation, no capabilities,
   * RuntimeDefault seccomp, read-only root filesystem
   */
  readonly security?: StepSecurity;
  /**
   * Artifacts to read, by input name; each orders this step after its producer and is
   * handed over as `MLOPS_INPUT_<NAME>`.
   * @default - none
   */
  readonly inputs?: Record<string, Artifact>;
  /**
   * Artifacts this step writes, by name and kind, e.g. `{ model: Model }`. Each becomes
   * `step.outputs.<name>` and `MLOPS_OUTPUT_<NAME>`.
   * @default - none
   */
  readonly outputs?: O;
  /**
   * When the step runs relative to its upstream steps: `TriggerRule.ALL_DONE` for clean-up
   * that must run whatever happened, `ONE_FAILED` for alerts, `NONE_FAILED` to run after a
   * branch its condition skipped.
   * @default TriggerRule.ALL_SUCCEEDED - every upstream step completed
   */
  readonly trigger?: TriggerRule;
  /**
   * Steps to wait for besides the producers of `inputs`.
   * @default - none
   */
  readonly after?: Step[];
}

/** The name rule of inputs and outputs: they become env var suffixes and directory names. */
const ARTIFACT_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * A step that runs any container image to completion.
 *
 * @example
 * const train = new ContainerStep(pipeline, 'train', {
 *   image: 'ghcr.io/acme/churn:1.4.2',
 *   command: ['python', '-m', 'churn.train'],
 *   inputs: { features: features.outputs.features },
 *   outputs: { model: Model },
 *   gpu: Gpu.nvidia(1),
 * });
 */
export class ContainerStep<O extends Record<string, ArtifactType> = Record<never, never>> extends Step {
  /** The artifacts this step writes, typed by the kinds declared in `outputs`. */
  public readonly outputs: OutputsOf<O>;

  private readonly props: ContainerStepProps<O>;
  private readonly inputMap: Record<string, Artifact> = {};
  private readonly extraEnv: Record<string, EnvVarValue> = {};

  public constructor(scope: Construct, id: string, props: ContainerStepProps<O> = {}) {
    super(scope, id);
    this.props = props;
    const outputs: Record<string, Artifact> = {};
    for (const [name, type] of Object.entries(props.outputs ?? {})) {
      this.checkArtifactName('output', name);
      outputs[name] = new type(this, name);
    }
    this.outputs = outputs as OutputsOf<O>;
    for (const [name, artifact] of Object.entries(props.inputs ?? {})) this.addInput(name, artifact);
    if (props.after) this.after(...props.after);
    if (props.trigger !== undefined) this.setTriggerRule(props.trigger);
    if (props.volumes?.some((v) => v.volume.source.kind === 'workspace')) this.pipeline.backend.useWorkspace(this);
  }

  public get inputs(): Record<string, Artifact> {
    return { ...this.inputMap };
  }

  /** Read `artifact` as input `name`; this step then runs after the artifact's producer. */
  public addInput(name: string, artifact: Artifact): void {
    this.checkArtifactName('input', name);
    if (!(artifact instanceof Artifact)) {
      throw new Error(`[${this.node.path}] input '${name}' must be an artifact such as otherStep.outputs.data, got ${String(artifact)}`);
    }
    if (name in this.inputMap) {
      throw new Error(`[${this.node.path}] input '${name}' is already wired to ${this.inputMap[name]}; use another input name`);
    }
    this.inputMap[name] = artifact;
    this.pipeline._touch();
  }

  /** Add (or override) an environment variable after construction. */
  public addEnv(name: string, value: EnvVarValue): void {
    this.extraEnv[name] = value;
    this.pipeline._touch();
  }

  public spec(): StepSpec {
    const defaults = this.pipeline.defaults;
    const p = this.props;
    const image = p.image ?? defaults.image ?? '';
    return {
      image,
      imagePullPolicy: p.imagePullPolicy ?? defaultPullPolicy(image),
      containerName: p.containerName ?? 'main',
      command: p.command,
      args: p.args,
      env: { ...defaults.env, ...p.env, ...this.extraEnv },
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
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }

  private checkArtifactName(what: 'input' | 'output', name: string): void {
    if (!ARTIFACT_NAME.test(name)) {
      throw new Error(`[${this.node.path}] ${what} name '${name}' is invalid: use lowercase letters, digits and '_', `
        + 'starting with a letter (it becomes an env var suffix and a directory name)');
    }
  }
}

