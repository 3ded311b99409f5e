export * from './model-server';
export * from './model-server-props';
export * from './registry';
export * from './runtime';
export * from './split';
export type { MlserverOptions } from './mlserver';
export type { TritonOptions } from './triton';
export * from './topology-diagram';
