import type { Construct } from 'constructs';
import type { Artifact, ArtifactType, OutputsOf } from '../model/artifact';
import { BatchStep } from '../model/batch-step';
import type { StepOptions } from '../model/step-options';
import type { StepValue, StepValueType, ValuesOf } from '../model/step-value';

/** The artifacts a step takes for the input kinds it declared. */
export type InputsOf<I extends Record<string, ArtifactType>> = { readonly [K in keyof I]: InstanceType<I[K]> };

/** The values a step reads for the value types it declared, by alias. */
export type InputValuesOf<V extends Record<string, StepValueType>> = { readonly [K in keyof V]: InstanceType<V[K]> };

/** Props of a `ContainerStep`. */
export interface ContainerStepProps<
  O extends Record<string, ArtifactType> = Record<never, never>,
  I extends Record<string, ArtifactType> = Record<string, ArtifactType>,
  V extends Record<string, StepValueType> = Record<never, never>,
  IV extends Record<string, StepValueType> = Record<string, StepValueType>,
> extends StepOptions {
  /**
   * The kind each input must be, by input name, e.g. `{ model: Model }`: then `inputs` must
   * hold exactly these names with artifacts of these kinds, checked by the compiler (and at
   * run time for JavaScript callers).
   * @default - any artifact is accepted under any name
   */
  readonly inputKinds?: I;
  /**
   * Artifacts to read, by input name; each orders this step after its producer and is
   * handed over as `MLOPS_INPUT_<NAME>`.
   * @default - none
   */
  readonly inputs?: InputsOf<I>;
  /**
   * Artifacts this step writes, by name and kind, e.g. `{ model: Model }`. Each becomes
   * `step.outputs.<name>` and `MLOPS_OUTPUT_<NAME>`.
   * @default - none
   */
  readonly outputs?: O;
  /**
   * Small typed values this step writes, by name and type, e.g.
   * `{ accuracy: NumberValue, url: StringValue }`: the container writes each to the file
   * `$MLOPS_VALUES/<name>`; each becomes `step.values.<name>`, which later steps read
   * (`inputValues`) or decide on (`when`). At most 4096 bytes together, as JSON; a missing
   * value, one of the wrong type or over the limit fails the step with the reason.
   * @default - none
   */
  readonly values?: V;
  /**
   * The type each input value must be, by alias, e.g. `{ threshold: NumberValue }`: then
   * `inputValues` must hold exactly these aliases with values of these types, checked by the
   * compiler (and at run time for JavaScript callers).
   * @default - any value is accepted under any alias
   */
  readonly inputValueKinds?: IV;
  /**
   * Values of upstream steps to read, by alias, as `MLOPS_VALUE_<ALIAS>`.
   * @default - none
   */
  readonly inputValues?: InputValuesOf<IV>;
}

/**
 * A step that runs any container image to completion.
 *
 * @example
 * const train = new ContainerStep(pipeline, 'train', {
 *   image: 'ghcr.io/acme/churn:1.4.2',
 *   command: ['python', '-m', 'churn.train'],
 *   inputKinds: { features: Features },
 *   inputs: { features: features.outputs.features },
 *   outputs: { model: Model },
 *   gpu: Gpu.nvidia(1),
 * });
 */
export class ContainerStep<
  O extends Record<string, ArtifactType> = Record<never, never>,
  I extends Record<string, ArtifactType> = Record<string, ArtifactType>,
  V extends Record<string, StepValueType> = Record<never, never>,
  IV extends Record<string, StepValueType> = Record<string, StepValueType>,
> extends BatchStep {
  public constructor(scope: Construct, id: string, props: ContainerStepProps<O, I, V, IV> = {}) {
    super(scope, id, props);
    for (const [name, type] of Object.entries(props.outputs ?? {})) this.addOutput(name, type);
    for (const [name, type] of Object.entries(props.values ?? {})) this.addValue(name, type);
    const valueKinds: Record<string, StepValueType> = props.inputValueKinds ?? {};
    for (const [alias, value] of Object.entries(props.inputValues ?? {}) as Array<[string, StepValue]>) {
      const kind = valueKinds[alias];
      if (props.inputValueKinds && (!kind || !(value instanceof kind))) {
        throw new Error(`[${this.node.path}] input value '${alias}' must be a ${kind ? kind.name : 'value of one of the declared inputValueKinds'}, `
          + `got the ${value.type} value ${value}; wire a value of that type or change 'inputValueKinds'`);
      }
    }
    const unwired = Object.keys(valueKinds).filter((alias) => !(alias in (props.inputValues ?? {})));
    if (unwired.length > 0) {
      throw new Error(`[${this.node.path}] input value '${unwired[0]}' is declared in 'inputValueKinds' but not wired; pass it in 'inputValues'`);
    }
    const kinds: Record<string, ArtifactType> = props.inputKinds ?? {};
    for (const [name, artifact] of Object.entries(props.inputs ?? {}) as Array<[string, Artifact]>) {
      this.addInput(name, artifact);
      const kind = kinds[name];
      if (props.inputKinds && (!kind || !(artifact instanceof kind))) {
        throw new Error(`[${this.node.path}] input '${name}' must be ${kind ? `a ${kind.name}` : 'one of the declared inputKinds'}, `
          + `got the ${artifact.kind} ${artifact}; wire an artifact of that kind or change 'inputKinds'`);
      }
    }
    const missing = Object.keys(kinds).filter((name) => !(name in (props.inputs ?? {})));
    if (missing.length > 0) {
      throw new Error(`[${this.node.path}] input '${missing[0]}' is declared in 'inputKinds' but not wired; pass it in 'inputs'`);
    }
  }

  /** The artifacts this step writes, typed by the kinds declared in `outputs`. */
  public override get outputs(): OutputsOf<O> {
    return super.outputs as OutputsOf<O>;
  }

  /** The values this step writes, typed by the types declared in `values`. */
  public override get values(): ValuesOf<V> {
    return super.values as ValuesOf<V>;
  }

  /** Read `artifact` as input `name`; this step then runs after the artifact's producer. */
  public override addInput(name: string, artifact: Artifact): void {
    super.addInput(name, artifact);
  }
}
