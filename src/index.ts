import { registerDefaultBackend } from './model/backend';
import { PlainBackend } from './backends/plain/plain-backend';

export * from './model/artifact';
export * from './model/backend';
export * from './model/baseline';
export * from './model/batch-step';
export * from './model/container-spec';
export * from './model/gate';
export * from './model/gpu';
export * from './model/graph';
export * from './model/item-outputs';
export type { DiagramLevel, DiagramNode, DiagramServing, PipelineDiagram } from './model/diagram';
export * from './model/node-kind';
export * from './model/pipeline';
export * from './model/plus-values';
export * from './model/pull-policy';
export * from './model/schedule';
export * from './model/step';
export * from './model/step-options';
export * from './model/step-group';
export * from './model/step-value';
export * from './model/step-volume';
export * from './model/threshold';
export * from './model/trigger-rule';
export * from './model/workspace';
export * from './steps/container-step';
export * from './steps/data-source';
export * from './steps/evaluate';
export * from './steps/fan-out';
export type { FanOutItem, JsonValue } from './steps/fan-out-items';
export * from './steps/group-instance';
export * from './steps/objective';
export * from './steps/search-space';
export * from './steps/select-best';
export * from './steps/sweep';
export * from './steps/feature-engineering';
export * from './steps/ingest';
export * from './steps/train';
export * from './backends/plain';
export * from './serving';
// The cdk8s validation plugin (`package: ./node_modules/cdk8s-mlops` in cdk8s.yaml); it loads
// verify only when synth runs it. The rest of verify is `cdk8s-mlops/verify`.
export { MlopsValidation } from './verify/cdk8s-plugin';
export type { MlopsValidationProps } from './verify/cdk8s-plugin';

registerDefaultBackend(() => new PlainBackend());
