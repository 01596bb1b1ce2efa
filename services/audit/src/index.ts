/**
 * @gdx/audit, the package's public face: the app, its configuration, its database and
 * the offline verifier of an export (what `npm run audit:verify` runs). Everything else
 * under src/ is internal; the "exports" map in package.json seals it. Internals that
 * this repository's tests and benches exercise directly are in ./testing.
 */
export * from './app';
export { auditDataSource } from './data-source';
export { migrations } from './migrations';
export { verifyExportFile } from './verify-cli';
export { auditPublicKeys, verifyDatabaseTrail } from './trail/verify-database';
export type { PublicKeyEntry } from './trail/audit-key.store';
export type { VerificationReport, Problem, ProblemCode, ChainSummary } from './trail/trail-verifier';
