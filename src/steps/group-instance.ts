import type { Construct } from 'constructs';
import type { ArtifactType } from '../model/artifact';
import { Pipeline } from '../model/pipeline';
import type { StepGroup } from '../model/step-group';
import { ContainerStep, ContainerStepProps } from './container-step';

/**
 * One instance of a fan-out or one trial of a sweep: an ordinary container step (its own
 * Job, retried on its own) that is member `index` of its group and gets its item as
 * literal variables in its pod template, so a retry sees the same item and a reviewer
 * reads it in the YAML.
 */
export class GroupInstance<
  O extends Record<string, ArtifactType> = Record<never, never>,
  I extends Record<string, ArtifactType> = Record<string, ArtifactType>,
> extends ContainerStep<O, I> {
  public constructor(scope: Construct, id: string, props: ContainerStepProps<O, I>, group: StepGroup, index: number, env: Record<string, string>) {
    super(scope, id, props);
    this.joinGroup(group, index);
    for (const [name, value] of Object.entries(env)) this.addLibraryEnv(name, { value });
  }
}

/** The name of a group made by `scope`: its construct path below the pipeline, joined with '-', as step names are. */
export function groupName(scope: Construct): string {
  const pipeline = Pipeline.of(scope);
  return scope.node.scopes.slice(scope.node.scopes.indexOf(pipeline) + 1).map((c) => c.node.id).join('-');
}
