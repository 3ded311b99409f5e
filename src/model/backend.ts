import type { Artifact } from './artifact';
import type { GraphProblem, PipelineGraph } from './graph';
import type { NodeKind } from './node-kind';
import type { Pipeline } from './pipeline';
import type { Step } from './step';
import type { StepValue } from './step-value';

/**
 * Turns a pipeline's validated graph into Kubernetes objects.
 *
 * The backend creates its constructs eagerly (so users can reach them and patch them)
 * but fills them lazily at synthesis, when every step and edge is known.
 */
export interface IPipelineBackend {
  /** How messages name this backend ("the plain backend"). */
  readonly displayName: string;
  /**
   * The kinds of node this backend renders. The pipeline refuses a node of any other kind
   * when it is added, naming the kind and the backend.
   */
  readonly kinds: readonly NodeKind[];
  /** Called once, from the pipeline's constructor. */
  bind(pipeline: Pipeline): void;
  /**
   * Called from each step's constructor, before the step's own props are applied, once its
   * kind is known to be one of `kinds`.
   */
  addStep(step: Step): void;
  /** Called when a step declares an output: the pipeline now needs its workspace. */
  addArtifact(artifact: Artifact): void;
  /**
   * Called when a step declares a value: the pipeline now needs whatever reports values.
   * Optional, so backends written before values existed still compile.
   */
  addValue?(value: StepValue): void;
  /** Called when a step mounts the workspace at a path of its own: the pipeline needs it too. */
  useWorkspace(step: Step): void;
  /**
   * Called when a batch step runs a script the library ships (`assets/<script>`, e.g. a
   * sweep's selection) instead of a user image: the backend delivers the script to the
   * step's container and returns the image it runs on (bash, jq and coreutils). A backend
   * without it refuses such steps.
   */
  useLibraryScript?(step: Step, script: string): string;
  /** Problems only this backend can see, such as derived names that are too long. */
  validate(graph: PipelineGraph): GraphProblem[];
  /** Trade-offs the user should know about, printed at synthesis. */
  warnings(graph: PipelineGraph): string[];
}

let defaultFactory: (() => IPipelineBackend) | undefined;

/**
 * Sets the backend a pipeline uses when its props name none.
 *
 * The model cannot import a backend (layers point one way), so the package entry point
 * registers the plain backend here.
 */
export function registerDefaultBackend(factory: () => IPipelineBackend): void {
  defaultFactory = factory;
}

/** A fresh instance of the default backend. */
export function createDefaultBackend(): IPipelineBackend {
  if (!defaultFactory) {
    throw new Error('no pipeline backend is registered: import Pipeline from \'cdk8s-mlops\', not from an internal path');
  }
  return defaultFactory();
}
