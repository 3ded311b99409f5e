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
  // No test is timed (speed goes in bench/): a simulated run that takes 3 s alone takes over
  // 5 s (jest's default) on a loaded machine, which is not a failure of the code under test.
  testTimeout: 120_000,
};
