import { Artifact } from './artifact';
import type { StepGroup } from './step-group';
import type { Step } from './step';

/**
 * One output of every member of a fan-out or sweep: a directory holding a folder per item
 * (`0/`, `1/`, ...), in item order. Reading it orders a step after every member, as a
 * fan-in. It is its own kind, so a step that asks for one `Model` does not compile with a
 * folder of models.
 */
export class ItemOutputs extends Artifact {
  /** The fan-out or sweep whose members write it. */
  public readonly group: StepGroup;
  /** The kind of each member's output (`Dataset`, `Model`...), for messages. */
  public readonly itemKind: string;

  /**
   * @param member a member of the fan-out or sweep (made by `FanOut` and `Sweep`)
   * @param name the output every member declares
   */
  public constructor(member: Step, name: string) {
    const group = member.groupMembership?.group;
    const one = member.outputs[name];
    if (!group || !one) {
      throw new Error(`[${member.node.path}] an ItemOutputs is made by a fan-out or sweep for an output of its instances: `
        + 'read fanOut.outputs.<name>, and declare the instances\' outputs with another kind');
    }
    super(group.members[0], name);
    this.group = group;
    this.itemKind = one.kind;
  }

  public override get kind(): 'ItemOutputs' {
    return 'ItemOutputs';
  }

  /** Every member writes a folder of it. */
  public override get producers(): readonly Step[] {
    return this.group.members;
  }

  /** Declared by every member. */
  public override get declared(): boolean {
    return this.group.members.every((m) => m.outputs[this.name] !== undefined);
  }

  /** `'<group path>.<output>'`, for messages. */
  public override toString(): string {
    return `${this.group.scope.node.path}.${this.name}`;
  }
}
