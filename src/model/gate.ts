import type { Construct } from 'constructs';
import { ApprovedModel } from './artifact';
import type { Metrics, Model } from './artifact';
import type { IBaselineSource } from './baseline';
import { OBJECT_STORE_SCRIPT, objectStoreProblem } from './object-store';
import { dnsSubdomainProblem } from './names';
import { NodeKind } from './node-kind';
import { Step } from './step';
import type { Threshold } from './threshold';

/** Props of a `Gate`. */
export interface GateProps {
  /** The evaluation's metrics; the gate reads `metrics.json` in it. */
  readonly metrics: Metrics;
  /** The model the gate approves or rejects. */
  readonly model: Model;
  /** The metric names the evaluation writes; every threshold must name one of them. */
  readonly declaredMetrics: readonly string[];
  /**
   * What the model must meet. At least one absolute threshold is required: a gate without
   * one would approve a first model unchecked (fail closed, as TFX's evaluator does).
   */
  readonly thresholds: readonly Threshold[];
  /**
   * Where the metrics of the model to compare with are, for baseline thresholds.
   * @default - no baseline: baseline thresholds never apply
   */
  readonly baseline?: IBaselineSource;
}

/**
 * A gate's decision: judges an evaluation's metrics against thresholds and approves the
 * model or rejects it. A rejection is a result, not a failure: the gate is not retried,
 * steps that need the approved model are skipped with the reason, and the run ends
 * "rejected". Usually created by `Evaluate`; its output is the only way to get an
 * `ApprovedModel`.
 */
export class Gate extends Step {
  /** The model, once approved: what promotion and serving accept. */
  public readonly approvedModel: ApprovedModel;
  /** The thresholds, as given. */
  public readonly thresholds: readonly Threshold[];
  /** Where the baseline's metrics are, if the gate compares with one. */
  public readonly baseline?: IBaselineSource;

  public constructor(scope: Construct, id: string, props: GateProps) {
    super(scope, id);
    const problem = gateProblem(props);
    if (problem) throw new Error(`[${this.node.path}] ${problem}`);
    this.thresholds = [...props.thresholds];
    this.baseline = props.baseline;
    // A registry on an object store: the gate's pod downloads the baseline with the library's script.
    if (props.baseline?.location.objectStore) {
      const backend = this.pipeline.backend;
      if (!backend.useLibraryScript) {
        throw new Error(`[${this.node.path}] ${backend.displayName} cannot read a baseline from an object store; use the plain backend`);
      }
      backend.useLibraryScript(this, OBJECT_STORE_SCRIPT);
    }
    this.addInput('metrics', props.metrics);
    this.approvedModel = this.registerOutput(new ApprovedModel(this, 'model', props.model));
  }

  public get kind(): NodeKind {
    return NodeKind.GATE;
  }
}

function gateProblem(props: GateProps): string | undefined {
  if (props.thresholds.length === 0) {
    return '\'thresholds\' is empty: a gate without thresholds never approves (fail closed); '
      + 'add at least one, e.g. Threshold.atLeast(\'auc\', 0.8)';
  }
  for (const threshold of props.thresholds) {
    const problem = threshold.problem(props.declaredMetrics);
    if (problem) return problem;
  }
  if (props.thresholds.every((t) => t.relativeToBaseline)) {
    return 'every threshold is relative to the baseline: the first model (no baseline yet) would be approved unchecked; '
      + 'add an absolute one, e.g. Threshold.atLeast(\'auc\', 0.8)';
  }
  const location = props.baseline?.location;
  if (location?.objectStore) {
    const storeProblem = objectStoreProblem(location.objectStore);
    if (storeProblem) return `baseline: ${storeProblem}`;
  } else if (location) {
    const claimProblem = dnsSubdomainProblem(location.claimName ?? '');
    if (claimProblem) return `baseline claim name '${location.claimName}' is invalid: ${claimProblem}`;
    if (location.path === '' || location.path.split('/').includes('..')) {
      return `baseline path '${location.path}' must name a file inside the claim, without '..'`;
    }
  }
  return undefined;
}
