const { entryPoints } = require('./tests/helpers/packages');

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Tests run against the sources: each public entry point of a workspace package (its
 * package.json "exports") maps to the file it is compiled from. Nothing else maps, so a
 * test cannot reach into a package's internals.
 */
const moduleNameMapper = Object.fromEntries(entryPoints().map((e) => [`^${escapeRegExp(e.specifier)}$`, `<rootDir>/${e.source}`]));

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // Type errors are caught by `tsc -p tests/tsconfig.json` in `npm test`; jest only transpiles.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tests/tsconfig.json', diagnostics: false }] },
  moduleNameMapper,
  globalSetup: '<rootDir>/tests/global-setup.ts',
  testTimeout: 60_000,
  // Two cores: each file has its own database and Redis prefix, so files run in parallel.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/tests/helpers/summary-reporter.js'],
};
