export * from './model-server';
export * from './model-server-props';
export * from './registry';
export * from './runtime';
