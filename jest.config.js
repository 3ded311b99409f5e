/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  // cdk8s synth of every example plus the bash coordinator runs are CPU-bound; two cores here.
  maxWorkers: 2,
};
