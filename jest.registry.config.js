/**
 * `npm run test:registry`: the integration test against a real CNCF Distribution registry (Debian's docker-registry,
 * with skopeo and umoci). `npm test` does not run it: its files end in .itest.ts, which jest.config.js does not match.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/registry'],
  testMatch: ['**/*.itest.ts'],
  testTimeout: 180000,
};
