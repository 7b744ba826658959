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
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // A test's own waits follow what they wait for (test/helpers/api.ts waitForLog); this only catches a hang, so it
  // leaves room for a machine shared with other builds (2 cores at a load of 15 passed the suite in 13 minutes).
  testTimeout: 90000,
};
