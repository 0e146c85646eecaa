/** End-to-end tests: the real app over HTTP, a fresh PostgreSQL database per test file (copied from the run's migrated one) and a Redis prefix per run. */
const unit = require('../jest.config.js');

module.exports = {
  ...unit,
  rootDir: require('node:path').join(__dirname, '..'),
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/setup/file-database.ts'],
  testTimeout: 30_000,
  // Two cores: one test file at a time keeps timings honest and the machine responsive.
  maxWorkers: 1,
  // A BullMQ worker closed while its stall check is reading Redis still sets the check's next
  // timer (stalledInterval, 5 s) once the read returns, and nothing clears it: a test that starts
  // and closes an app at once can leave one behind, which keeps the process up to 5 s longer.
  // Jest warns of open handles only past that.
  openHandlesTimeout: 6_000,
};
