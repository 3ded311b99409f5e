export * from './plain-backend';
