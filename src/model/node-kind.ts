/**
 * What kind of node of a pipeline graph something is: a batch step, a gate's decision, and
 * (later) a long-running server or a schedule.
 *
 * The model orders nodes of every kind the same way; a backend says which kinds it renders
 * (`IPipelineBackend.kinds`) and the pipeline refuses the others by name, so a backend that
 * cannot run a server fails at synth instead of dropping it. Compared by `name`, so that two
 * copies of this library agree.
 */
export class NodeKind {
  /** A container that runs to completion, with retries and a timeout. */
  public static readonly BATCH = new NodeKind('batch', 'a batch step');
  /** A library-run decision on an evaluation's metrics: approved or rejected, never retried. */
  public static readonly GATE = new NodeKind('gate', 'a gate');

  /** A kind of node this library does not define, for a step or backend of another package. */
  public static of(name: string, description: string): NodeKind {
    return new NodeKind(name, description);
  }

  private constructor(
    /** Short name, used by backends and the coordinator plan (`batch`, `gate`). */
    public readonly name: string,
    /** How messages call a node of this kind ("a batch step"). */
    public readonly description: string,
  ) {}
}
