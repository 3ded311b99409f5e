/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Transpile only: `npm test` type-checks everything once with tsc before jest runs.
  // (@swc/jest would be faster, but its platform binaries break `npm ci` against registries
  // that do not mirror every platform's package.)
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  // cdk8s synth of every example plus the bash coordinator runs are CPU-bound; two cores here.
  maxWorkers: 2,
  // A hang guard, not a timing assertion: simulations run the real kubectl (50-100 ms a call)
  // and each has its own wall-clock budget (SimulateOptions.timeoutMs) that reports where it stood.
  testTimeout: 180_000,
};
