/**
 * The one entry point: schema and name checks per object, then the cross-object and
 * pipeline checks, then the plans.
 */
import { indexObjects } from './index-set';
import { describeObject, ObjectInfo } from './objects';
import { checkPipelines } from './pipeline-checks';
import { PipelinePlan, plansOf } from './plan';
import { notAnObject, validateObjectSchema } from './schema';
import { checkSemantics } from './semantic';
import { ExternalRefs, isRecord, KubeObject, Problem, Severity } from './types';

export interface VerifyOptions {
  /**
   * Namespace of objects without `metadata.namespace`. Default `'default'`: what `kubectl
   * apply` without `-n` uses. Objects only refer to each other within a namespace, so this
   * decides which unset-namespace objects can see which.
   */
  readonly namespace?: string;
  /**
   * Resources the manifests use but deliberately do not create (they exist in the cluster).
   * Default: none, so every reference must resolve. Per-object exceptions are better
   * declared with the `mlops.cdk8s.io/external-refs` annotation (see conventions.ts).
   */
  readonly external?: ExternalRefs;
  /**
   * Severity for objects whose kind has no schema: custom resources other than the Gateway
   * API's HTTPRoute, which is checked against its v1.0.0 CRD schema. Default `'error'`, so
   * nothing passes unchecked by accident.
   */
  readonly unknownKinds?: Severity | 'ignore';
  /**
   * Where each object came from (`file#document`), index-aligned with `objects`. Default: none.
   * When given, problems carry `source` and duplicate-name messages name both places.
   */
  readonly sources?: readonly (string | undefined)[];
}

export interface VerifyResult {
  /** Every problem found, ordered by the position of the object in the input. */
  readonly problems: readonly Problem[];
  /** One plan per pipeline found (by the `mlops.cdk8s.io/pipeline` label), by namespace then name. */
  readonly plans: readonly PipelinePlan[];
}

export function verifyObjects(objects: readonly unknown[], options: VerifyOptions = {}): VerifyResult {
  const namespace = options.namespace ?? 'default';
  const problems: { problem: Problem; index: number }[] = [];
  const infos: ObjectInfo[] = [];
  objects.forEach((obj, index) => {
    if (!isRecord(obj)) {
      problems.push({ problem: notAnObject(obj), index });
      return;
    }
    const info = describeObject(obj as KubeObject, index, namespace);
    infos.push(info);
    for (const problem of validateObjectSchema(info, options)) problems.push({ problem, index });
  });

  const set = indexObjects(infos, options.sources);
  const firstIndex = new Map<string, number>();
  for (const info of infos) if (!firstIndex.has(info.label)) firstIndex.set(info.label, info.index);
  for (const problem of [...checkSemantics(set, options), ...checkPipelines(set)]) {
    problems.push({ problem, index: firstIndex.get(problem.object) ?? objects.length });
  }

  const ordered = problems
    .map((p, order) => ({ ...p, order }))
    .sort((a, b) => a.index - b.index || a.order - b.order)
    .map(({ problem, index }) => {
      const source = problem.source ?? options.sources?.[index];
      return source ? { ...problem, source } : problem;
    });
  return { problems: ordered, plans: plansOf(set) };
}

/** True when any problem is an error (what makes `verify` exit non-zero). */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
