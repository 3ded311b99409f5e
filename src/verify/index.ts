/**
 * Offline verification of Kubernetes manifests: strict Kubernetes 1.27 schemas, names,
 * cross-object references and the cdk8s-mlops pipeline contract, plus the run plan of each
 * pipeline. Works on plain parsed objects, so it checks YAML from any source.
 */
export { verifyObjects, hasErrors } from './verify';
export type { VerifyOptions, VerifyResult } from './verify';
export { loadManifests, readManifests, parseManifestText, formatLoadError, ManifestLoadError, MAX_FILE_BYTES } from './load';
export type { ReadManifests } from './load';
export type { LoadedManifests, LoadError } from './load';
export { validateSchema, validateSchemas, schemaIdFor, schemaTimings } from './schema';
export type { SchemaTimings, SchemaOptions } from './schema';
export { derivePlans, renderPlan, renderPlans, isExtendedResource } from './plan';
export type { PipelinePlan, PlanLevel, PlanStep } from './plan';
export { MlopsValidation } from './cdk8s-plugin';
export type { MlopsValidationProps, ValidationContextLike, ValidationReportLike, ValidationViolationLike } from './cdk8s-plugin';
export { parseQuantity, QUANTITY } from './quantity';
export type { ExternalRefs, KubeObject, Problem, Severity } from './types';
export {
  DEPENDS_ON_ANNOTATION, EXTERNAL_REFS_ANNOTATION, PIPELINE_LABEL, STEP_LABEL, ROLE_LABEL, PLAN_KEY,
} from './conventions';
