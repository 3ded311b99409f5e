import type { Step } from './step';

/**
 * Something a step writes to the pipeline's workspace and other steps read.
 *
 * An artifact is a directory: the producing step gets its path in `MLOPS_OUTPUT_<NAME>`,
 * each consuming step in `MLOPS_INPUT_<NAME>`. Passing an artifact to a step as an input
 * is what orders the two steps, so wiring and ordering can never disagree.
 *
 * The subclasses (`Dataset`, `Features`, `Model`, `Metrics`) exist so that typed steps
 * can ask for one kind and the compiler rejects another.
 */
export class Artifact {
  /**
   * @param producer the step that writes this artifact
   * @param name the output's name on that step, unique per step
   */
  public constructor(public readonly producer: Step, public readonly name: string) {
    producer.pipeline.backend.addArtifact(this);
  }

  /**
   * This artifact's kind, for messages and the plan.
   *
   * Each subclass narrows it to a literal type, which is what makes a `Model` not
   * assignable where a `Dataset` is expected.
   */
  public get kind(): string {
    return 'Artifact';
  }

  /** The steps that write this artifact: its producer, or every member of a fan-out for `ItemOutputs`. */
  public get producers(): readonly Step[] {
    return [this.producer];
  }

  /** Whether its producer declared it as an output (a hand-made artifact is not). */
  public get declared(): boolean {
    return this.producer.outputs[this.name] === this;
  }

  /**
   * The artifact whose directory holds this one's files: itself, or for an approved model
   * the model it approves (a gate copies nothing).
   */
  public get stored(): Artifact {
    return this;
  }

  /** `'<step path>.<output>'`, for messages. */
  public toString(): string {
    return `${this.producer.node.path}.${this.name}`;
  }
}

/** Raw or cleaned rows, as ingested. */
export class Dataset extends Artifact {
  public override get kind(): 'Dataset' {
    return 'Dataset';
  }
}

/** Engineered features ready for training. */
export class Features extends Artifact {
  public override get kind(): 'Features' {
    return 'Features';
  }
}

/** A trained model. */
export class Model extends Artifact {
  public override get kind(): 'Model' {
    return 'Model';
  }
}

/** Evaluation results. */
export class Metrics extends Artifact {
  public override get kind(): 'Metrics' {
    return 'Metrics';
  }
}

/**
 * A model a gate approved: the only artifact promotion and serving accept, so deploying a
 * model that skipped evaluation does not compile. Its files are the model's own (nothing is
 * copied); reading it orders a step after the gate, which is released only on approval.
 */
export class ApprovedModel extends Artifact {
  /**
   * @param gate the gate that approves the model (made by `Evaluate`)
   * @param name the gate's output name
   * @param model the model it approves
   */
  public constructor(gate: Step, name: string, public readonly model: Model) {
    super(gate, name);
    if (gate.kind.name !== 'gate' || !model) {
      throw new Error(`[${gate.node.path}] an ApprovedModel comes only from a gate: use evaluate.approvedModel`);
    }
  }

  public override get kind(): 'ApprovedModel' {
    return 'ApprovedModel';
  }

  /** The approved model's files are the model's. */
  public override get stored(): Artifact {
    return this.model.stored;
  }
}

/** The class of an artifact kind, used to declare outputs: `outputs: { model: Model }`. */
export type ArtifactType<A extends Artifact = Artifact> = new (producer: Step, name: string) => A;

/** The artifacts a step exposes for the output types it declared. */
export type OutputsOf<O extends Record<string, ArtifactType>> = { readonly [K in keyof O]: InstanceType<O[K]> };
