export * from './model-server';
export * from './model-server-props';
export * from './registry';
export * from './runtime';
export * from './promote';
export * from './promotion-hook';
