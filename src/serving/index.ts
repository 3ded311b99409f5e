export * from './model-server';
export * from './model-server-props';
export * from './registry';
export * from './runtime';
export * from './batch-data';
export * from './batch-inference';
export * from './batch-inference-props';
