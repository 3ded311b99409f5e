import { Construct } from 'constructs';
import type { Artifact } from './artifact';
import type { StepSpec } from './container-spec';
import { dnsLabelProblem } from './names';
import { Pipeline } from './pipeline';
import { TriggerRule } from './trigger-rule';
import { checkStepSpec } from './spec-checks';

/**
 * One unit of work in a pipeline: a container that runs to completion.
 *
 * A step runs after every step it was told to wait for with `after()` and after every
 * step whose artifacts it reads: both are edges of one graph. Subclasses describe their
 * container through `spec()`; they never render Kubernetes objects themselves.
 */
export abstract class Step extends Construct {
  /** Whether `x` is a step, also across duplicate copies of this library. */
  public static isStep(x: unknown): x is Step {
    return x !== null && typeof x === 'object' && STEP_SYMBOL in x;
  }

  /** The pipeline this step belongs to. */
  public readonly pipeline: Pipeline;

  /**
   * The step's name: its construct path below the pipeline, joined with '-'.
   *
   * A step defined inside a reusable construct `training` with id `fit` is `training-fit`,
   * so two copies of a published construct never clash.
   */
  public readonly stepName: string;

  private readonly explicitUpstream = new Set<Step>();
  private trigger: TriggerRule = TriggerRule.ALL_SUCCEEDED;

  protected constructor(scope: Construct, id: string) {
    super(scope, checkedStepId(scope, id));
    Object.defineProperty(this, STEP_SYMBOL, { value: true });
    this.pipeline = Pipeline.of(this);
    this.stepName = this.node.scopes
      .slice(this.node.scopes.indexOf(this.pipeline) + 1)
      .map((c) => c.node.id)
      .join('-');
    this.pipeline._registerStep(this);
    this.node.addValidation({ validate: () => this.pipeline._problemsOf(this) });
  }

  /**
   * Run this step only after each of `steps` has completed.
   *
   * Use it for ordering that no artifact expresses (a step that writes to an external
   * store another step reads). Reading another step's artifact orders the two already.
   */
  public after(...steps: Step[]): void {
    for (const step of steps) {
      if (!Step.isStep(step)) {
        throw new Error(`[${this.node.path}] after() takes steps, got ${String(step)}`);
      }
      this.explicitUpstream.add(step);
    }
    this.pipeline._touch();
  }

  /** When this step runs relative to its upstream steps (`TriggerRule`). */
  public get triggerRule(): TriggerRule {
    return this.trigger;
  }

  /** Set by subclasses from their props; checked at synthesis. */
  protected setTriggerRule(rule: TriggerRule): void {
    this.trigger = rule;
    this.pipeline._touch();
  }

  /** The steps this one waits for: `after()` edges plus the producers of its inputs. */
  public get upstream(): Step[] {
    const all = new Set<Step>(this.explicitUpstream);
    for (const artifact of Object.values(this.inputs)) all.add(artifact.producer);
    return [...all];
  }

  /** Artifacts this step reads, by input name. */
  public abstract get inputs(): Record<string, Artifact>;

  /** Artifacts this step writes, by output name. */
  public abstract get outputs(): Record<string, Artifact>;

  /**
   * The container and wiring a backend renders, with the pipeline's defaults applied.
   *
   * Called at synthesis, after all user code ran, so later `addEnv()`-style calls count.
   */
  public abstract spec(): StepSpec;

  /**
   * Problems with this step's own settings, each naming the prop and the fix. Every step
   * describes its container as a `StepSpec`, so the checks are shared; a step with props of
   * its own adds its checks to these.
   */
  public validateSpec(): string[] {
    return checkStepSpec(this.spec());
  }
}

const STEP_SYMBOL = Symbol.for('cdk8s-mlops.Step');

/**
 * `id` when it can name a step; checked before the construct exists, because the constructs
 * library refuses an empty id with a message that names no path.
 */
function checkedStepId(scope: Construct, id: string): string {
  const problem = dnsLabelProblem(id);
  if (!problem) return id;
  const path = [scope.node.path, id].filter((part) => part !== '').join('/');
  throw new Error(`[${path}] step id '${id}' is not a valid name: ${problem}`);
}
