import { Construct } from 'constructs';
import { Artifact, ArtifactType } from './artifact';
import { dnsLabelProblem } from './names';
import type { NodeKind } from './node-kind';
import { Pipeline } from './pipeline';
import type { GroupMembership, StepGroup } from './step-group';
import { Condition, StepValue, StepValueType, valueNameProblem } from './step-value';
import { TriggerRule } from './trigger-rule';

/** The name rule of inputs and outputs: they become env var suffixes and directory names. */
const ARTIFACT_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * One node of a pipeline's graph: a batch step, a gate's decision, and later a server or a
 * schedule (its `kind`).
 *
 * A node runs after every node it was told to wait for with `after()` and after every node
 * whose artifacts it reads: both are edges of one graph. This base owns the wiring (inputs,
 * outputs, `after()`), so that subclasses never have to tell the pipeline that its graph
 * changed. Nodes never render Kubernetes objects themselves; backends do, by kind.
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
  private readonly inputMap: Record<string, Artifact> = {};
  private readonly outputMap: Record<string, Artifact> = {};
  private readonly valueMap: Record<string, StepValue> = {};
  private readonly inputValueMap: Record<string, StepValue> = {};
  private trigger: TriggerRule = TriggerRule.ALL_SUCCEEDED;
  private whenCondition?: Condition;
  private membership?: GroupMembership;

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

  /** What kind of node this is; the backend must render this kind. */
  public abstract get kind(): NodeKind;

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

  /** The fan-out or sweep this step is an instance of, and its index there. */
  public get groupMembership(): GroupMembership | undefined {
    return this.membership;
  }

  /** Make this step member `index` of `group`; done once, by the construct that owns the group. */
  protected joinGroup(group: StepGroup, index: number): void {
    if (this.membership) throw new Error(`[${this.node.path}] step is already member ${this.membership.index} of '${this.membership.group.name}'`);
    this.membership = { group, index };
    group.members[index] = this;
    this.pipeline._touch();
  }

  /** The condition the step runs under (`when`), if any. */
  public get condition(): Condition | undefined {
    return this.whenCondition;
  }

  /** Set by subclasses from their props: decided at run time, once the trigger rule would release the step. */
  protected setCondition(condition: Condition): void {
    if (!(condition instanceof Condition)) {
      throw new Error(`[${this.node.path}] 'when' takes a condition such as evaluate.values.accuracy.atLeast(0.8), got ${String(condition)}`);
    }
    this.whenCondition = condition;
    this.pipeline._touch();
  }

  /**
   * The steps this one waits for: `after()` edges plus the producers of its inputs, of the
   * values it reads and of the values its condition compares.
   */
  public get upstream(): Step[] {
    const all = new Set<Step>(this.explicitUpstream);
    for (const artifact of Object.values(this.inputMap)) for (const producer of artifact.producers) all.add(producer);
    for (const value of [...Object.values(this.inputValueMap), ...(this.whenCondition?.values ?? [])]) all.add(value.producer);
    return [...all];
  }

  /** Small typed outputs this step writes, by name. */
  public get values(): Record<string, StepValue> {
    return { ...this.valueMap };
  }

  /** Values of upstream steps this step reads, by the alias it reads them under (`MLOPS_VALUE_<ALIAS>`). */
  public get inputValues(): Record<string, StepValue> {
    return { ...this.inputValueMap };
  }

  /** Artifacts this step reads, by input name. */
  public get inputs(): Record<string, Artifact> {
    return { ...this.inputMap };
  }

  /** Artifacts this step writes, by output name. */
  public get outputs(): Record<string, Artifact> {
    return { ...this.outputMap };
  }

  /**
   * Problems with this step's own settings, each naming the prop and the fix; found at
   * synthesis, when defaults are merged and later calls have happened.
   */
  public validateSpec(): string[] {
    return [];
  }

  /** Read `artifact` as input `name`; this step then runs after the artifact's producer. */
  protected addInput(name: string, artifact: Artifact): void {
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

  /** Declare output `name` of kind `type`; returns the artifact other steps read. */
  protected addOutput<A extends Artifact>(name: string, type: ArtifactType<A>): A {
    this.checkArtifactName('output', name);
    return this.registerOutput(new type(this, name));
  }

  /** Declare an output made by this step itself (e.g. a gate's `ApprovedModel`); returns it. */
  protected registerOutput<A extends Artifact>(artifact: A): A {
    if (artifact.producer !== this) {
      throw new Error(`[${this.node.path}] output '${artifact.name}' is produced by ${artifact.producer.node.path}, not by this step`);
    }
    if (artifact.name in this.outputMap) {
      throw new Error(`[${this.node.path}] output '${artifact.name}' is declared twice; use another output name`);
    }
    this.outputMap[artifact.name] = artifact;
    this.pipeline._touch();
    return artifact;
  }

  /** Declare value `name` of type `type`; returns the value other steps read or compare. */
  protected addValue<V extends StepValue>(name: string, type: StepValueType<V>): V {
    this.checkValueName('value', name);
    if (name in this.valueMap) {
      throw new Error(`[${this.node.path}] value '${name}' is declared twice; use another value name`);
    }
    const value = new type(this, name);
    this.valueMap[name] = value;
    this.pipeline.backend.addValue?.(value);
    this.pipeline._touch();
    return value;
  }

  /** Read `value` as `MLOPS_VALUE_<ALIAS>`; this step then runs after the value's producer. */
  protected addInputValue(alias: string, value: StepValue): void {
    this.checkValueName('input value', alias);
    if (!StepValue.isStepValue(value)) {
      throw new Error(`[${this.node.path}] input value '${alias}' must be a value such as otherStep.values.accuracy, got ${String(value)}`);
    }
    if (alias in this.inputValueMap) {
      throw new Error(`[${this.node.path}] input value '${alias}' is already wired to ${this.inputValueMap[alias]}; use another alias`);
    }
    this.inputValueMap[alias] = value;
    this.pipeline._touch();
  }

  private checkValueName(what: 'value' | 'input value', name: string): void {
    const problem = valueNameProblem(name);
    if (problem) throw new Error(`[${this.node.path}] ${what} name '${name}' is invalid: ${problem}`);
  }

  private checkArtifactName(what: 'input' | 'output', name: string): void {
    if (!ARTIFACT_NAME.test(name)) {
      throw new Error(`[${this.node.path}] ${what} name '${name}' is invalid: use lowercase letters, digits and '_', `
        + 'starting with a letter (it becomes an env var suffix and a directory name)');
    }
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
