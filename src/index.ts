import { registerDefaultBackend } from './model/backend';
import { PlainBackend } from './backends/plain/plain-backend';

export * from './model/artifact';
export * from './model/backend';
export * from './model/container-spec';
export * from './model/gpu';
export * from './model/graph';
export type { DiagramLevel, DiagramNode, DiagramServing, PipelineDiagram } from './model/diagram';
export * from './model/pipeline';
export * from './model/plus-values';
export * from './model/pull-policy';
export * from './model/schedule';
export * from './model/step';
export * from './model/step-volume';
export * from './model/workspace';
export * from './steps/container-step';
export * from './backends/plain';
export * from './serving';

registerDefaultBackend(() => new PlainBackend());
