/** @type {import('jest').Config} */
const libs = ['config', 'logging', 'errors', 'database', 'events', 'auth', 'service-kit', 'codes'];
const services = ['gateway', 'catalogue', 'request-approval', 'data-query', 'audit'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tests/tsconfig.json', diagnostics: false }] },
  moduleNameMapper: {
    [`^@gdx/(${libs.join('|')})$`]: '<rootDir>/libs/$1/src',
    [`^@gdx/(${services.join('|')})$`]: '<rootDir>/services/$1/src/app',
    [`^@gdx/(${services.join('|')})/dist/(.*)$`]: '<rootDir>/services/$1/src/$2',
  },
  globalSetup: '<rootDir>/tests/global-setup.ts',
  testTimeout: 60_000,
  // Two cores: each file has its own database and Redis prefix, so files run in parallel.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/tests/helpers/summary-reporter.js'],
};
