import type { Construct } from 'constructs';
import type { Artifact, ArtifactType, OutputsOf } from '../model/artifact';
import { BatchStep } from '../model/batch-step';
import type { StepOptions } from '../model/step-options';

/** The artifacts a step takes for the input kinds it declared. */
export type InputsOf<I extends Record<string, ArtifactType>> = { readonly [K in keyof I]: InstanceType<I[K]> };

/** Props of a `ContainerStep`. */
export interface ContainerStepProps<
  O extends Record<string, ArtifactType> = Record<never, never>,
  I extends Record<string, ArtifactType> = Record<string, ArtifactType>,
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
> extends BatchStep {
  public constructor(scope: Construct, id: string, props: ContainerStepProps<O, I> = {}) {
    super(scope, id, props);
    for (const [name, type] of Object.entries(props.outputs ?? {})) this.addOutput(name, type);
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

  /** Read `artifact` as input `name`; this step then runs after the artifact's producer. */
  public override addInput(name: string, artifact: Artifact): void {
    super.addInput(name, artifact);
  }
}
