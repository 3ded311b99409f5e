/**
 * cdk8s-cli validation plugin: runs `verifyObjects` on what `cdk8s synth` wrote and reports
 * every problem, with the construct path when the CLI recorded construct metadata (it does
 * whenever `validations:` is set in cdk8s.yaml, through CDK8S_RECORD_CONSTRUCT_METADATA).
 *
 * In cdk8s.yaml (the CLI requires a local path to start with `./` and resolves a folder by
 * its package.json `main`, which exports this class):
 *
 *     validations:
 *       - package: ./node_modules/cdk8s-mlops
 *         version: 0.1.0         # any exact version; the CLI only prints it
 *         class: MlopsValidation
 *         properties:            # optional, see MlopsValidationProps
 *           external: { secrets: [ml-credentials] }
 *
 * The library's entry point exports this class, so it loads verify's machinery (ajv, the
 * schemas) only when `validate` runs, never when an app merely imports the library.
 *
 * The structural types below mirror cdk8s-cli's `lib/plugins/validation.d.ts` (2.207) instead
 * of importing it: cdk8s-cli is a dev tool, and the library must not depend on it at run time.
 */
import type { PipelinePlan } from './plan';
import type { ExternalRefs, Problem, Severity } from './types';

/** What cdk8s-cli passes to `validate` (ValidationContext). */
export interface ValidationContextLike {
  readonly manifests: readonly string[];
  readonly pkg: string;
  readonly version: string;
  /** Construct path per resource name (`metadata.name`), from construct-metadata.json. */
  readonly metadata?: { readonly [resourceName: string]: { readonly path: string } };
  readonly report: ValidationReportLike;
  readonly logger?: { log(message: string): void };
  parseManifest(manifestPath: string): unknown[];
}

export interface ValidationViolationLike {
  readonly ruleName: string;
  readonly recommendation: string;
  readonly fix: string;
  readonly violatingResources: readonly {
    readonly resourceName: string;
    readonly locations: readonly string[];
    readonly manifestPath: string;
  }[];
}

export interface ValidationReportLike {
  addViolation(violation: ValidationViolationLike): void;
  submit(status: 'success' | 'failure', metadata?: { readonly [key: string]: string }): void;
}

/** Plugin `properties` from cdk8s.yaml. */
export interface MlopsValidationProps {
  /** Resources used but not created by the app (see VerifyOptions.external). Default: none. */
  readonly external?: ExternalRefs;
  /** Namespace of objects without one. Default `'default'`. */
  readonly namespace?: string;
  /** Severity for kinds without a schema (custom resources other than the Gateway API's HTTPRoute). Default `'error'`. */
  readonly unknownKinds?: Severity | 'ignore';
  /** Fail synth on warnings too. Default `false`: warnings are reported and synth passes. */
  readonly failOnWarnings?: boolean;
  /** Log each pipeline's plan through the CLI logger. Default `false`, to keep synth output short. */
  readonly printPlan?: boolean;
}

export class MlopsValidation {
  /** Problems and plans of the last run, for callers that drive the plugin themselves. */
  public lastProblems: readonly Problem[] = [];
  public lastPlans: readonly PipelinePlan[] = [];

  constructor(private readonly props: MlopsValidationProps = {}) {}

  public async validate(context: ValidationContextLike): Promise<void> {
    const [{ verifyObjects }, { renderPlans }] = await Promise.all([import('./verify'), import('./plan')]);
    const objects: unknown[] = [];
    const sources: string[] = [];
    const manifestOf: string[] = [];
    for (const manifest of context.manifests) {
      context.parseManifest(manifest).forEach((doc, i) => {
        // parseManifest yields null for empty documents (a trailing `---`).
        if (doc === null || doc === undefined) return;
        objects.push(doc);
        sources.push(`${manifest}#${i + 1}`);
        manifestOf.push(manifest);
      });
    }
    const { problems, plans } = verifyObjects(objects, {
      external: this.props.external,
      namespace: this.props.namespace,
      unknownKinds: this.props.unknownKinds,
      sources,
    });
    this.lastProblems = problems;
    this.lastPlans = plans;

    const manifestBySource = new Map(sources.map((s, i) => [s, manifestOf[i]]));
    for (const p of problems) {
      const resourceName = nameOf(p.object);
      const constructPath = context.metadata?.[resourceName]?.path;
      context.report.addViolation({
        ruleName: `${p.severity}: ${p.rule}`,
        recommendation: constructPath ? `[${constructPath}] ${p.message}` : p.message,
        fix: p.fix ?? 'see the recommendation',
        violatingResources: [{
          resourceName,
          locations: [p.path || '/'],
          manifestPath: (p.source && manifestBySource.get(p.source)) ?? context.manifests[0] ?? '',
        }],
      });
    }
    if (this.props.printPlan && context.logger && plans.length) {
      context.logger.log(renderPlans(plans));
    }
    const failed = problems.some((p) => p.severity === 'error' || (this.props.failOnWarnings === true && p.severity === 'warning'));
    context.report.submit(failed ? 'failure' : 'success', {
      errors: String(problems.filter((p) => p.severity === 'error').length),
      warnings: String(problems.filter((p) => p.severity === 'warning').length),
      pipelines: String(plans.length),
    });
  }
}

/** `metadata.name` from a `Kind/namespace/name` label: cdk8s keys construct metadata by it. */
function nameOf(object: string): string {
  const i = object.lastIndexOf('/');
  return i < 0 ? object : object.slice(i + 1);
}
