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
  // A guard against hangs, not a speed check (speed is measured in bench/): simulations run
  // bash, jq and the real kubectl (50-100 ms a call), far longer than jest's default 5 s when
  // several test runs share the two cores; each run also has its own wall-clock budget
  // (SimulateOptions.timeoutMs) that reports where it stood.
  testTimeout: 180_000,
};
