/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  // middy and @octokit/rest (with its dependencies) are ESM-only; let swc transform them
  transformIgnorePatterns: [
    '/node_modules/(?!(@middy|@octokit|universal-user-agent|before-after-hook|json-with-bigint|fast-content-type-parse|content-type)/)',
  ],
  // Two workers on the 2-core machines: most of a test's time is waiting on DynamoDB Local, the SQS stand-in, git
  // and Chromium, so two overlap well (the suite took 341 s with jest's default of one worker, 155 s with two).
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // A test's own waits follow what they wait for (test/helpers/api.ts waitForLog); this only catches a hang, so it
  // leaves room for a machine shared with other builds (2 cores at a load of 15 passed the suite in 13 minutes).
  testTimeout: 90000,
};
